"""The faults-and-attacks tier (`-m faults`): each scenario runs real components, injects one
fault or attack, asserts the counts, and records them for docs/reliability.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from duyet.definition_files import definitions
from duyet.settings import Settings, get_settings
from publishing.issue import ensure_signing_keys
from tests.faults.ledger import Ledger
from tests.portal.conftest import (  # noqa: F401  (the portal tier's fixtures, reused)
    app,
    client,
    portal_env,
    seeded_db,
    settings,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def ledger(request: pytest.FixtureRequest) -> Ledger:
    return Ledger(request.node.nodeid)


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Development signing keys of every issuing body, made once for the session."""
    root = tmp_path_factory.mktemp("keys")
    keyed = get_settings(portal_env(root)).model_copy(update={"signing_keys_dir": root / "keys"})
    ensure_signing_keys(keyed, definitions(keyed))
    return root / "keys"


@pytest.fixture
def keyed(settings: Settings, signing_keys: Path) -> Settings:  # noqa: F811  (the fixture)
    """`settings` with signing keys: its cycles can be published (numbered, signed)."""
    return settings.model_copy(update={"signing_keys_dir": signing_keys})
