"""Fixtures shared by every tier."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from definitions.loader import load_units
from definitions.units import UnitDirectory
from duyet.settings import PROJECT_ROOT
from tests.databases import pg_admin_engine
from tests.stack import Stack, running_stack


@pytest.fixture(scope="session")
def directory() -> UnitDirectory:
    return load_units(PROJECT_ROOT / "definitions" / "units.yaml")


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every DUYET_* path at a temporary folder."""
    monkeypatch.setenv("DUYET_VAR_DIR", str(tmp_path / "var"))
    definitions = tmp_path / "definitions"
    (definitions / "plans").mkdir(parents=True)
    (definitions / "units.yaml").write_text(
        (PROJECT_ROOT / "definitions" / "units.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    monkeypatch.setenv("DUYET_DEFINITIONS_DIR", str(definitions))
    return tmp_path


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    """The PostgreSQL test server (skipped when down, unless DUYET_REQUIRE_PG=1)."""
    yield from pg_admin_engine()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Prefect server, process worker, records database, definitions and SMTP, all real."""
    yield from running_stack(tmp_path_factory.mktemp("stack"))
