"""Fixtures shared by every tier, and how `make test` spreads the tests over pytest-xdist
workers (`-n N --dist loadgroup`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from xdist.scheduler import LoadScopeScheduling

from definitions.loader import load_units
from definitions.units import UnitDirectory
from duyet.settings import PROJECT_ROOT
from tests.databases import pg_admin_engine
from tests.stack import Stack, running_stack

# Session fixtures too costly to start on more than one worker (the whole stack: a Prefect
# server, a worker, SMTP): every test using one goes to the same worker, in the same order as
# without xdist, sharing one instance as it does without xdist.
COSTLY_SESSION_FIXTURES = {"stack"}
GROUPS = "duyet_xdist_groups"  # workerinput key: the file where workers write the groups


def _group(item: pytest.Item) -> str | None:
    """The xdist group of a test: its `xdist_group` mark, the costly session fixture it uses,
    else its module when it uses a module-scoped fixture (set up once, not once per worker);
    None: any worker may take it alone."""
    marked = item.get_closest_marker("xdist_group")
    if marked is not None:
        return str(marked.args[0] if marked.args else marked.kwargs.get("name", "default"))
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    scopes = {name: definitions[-1].scope for name, definitions in info.name2fixturedefs.items()}
    for name in sorted(COSTLY_SESSION_FIXTURES & scopes.keys()):
        if scopes[name] == "session":
            return f"session-{name}"
    if {"module", "class", "package"} & set(scopes.values()):
        return item.nodeid.split("::")[0]
    return None


def _rank(item: pytest.Item) -> int:
    """Longest first, so the last test to end is not a long one started late."""
    if item.get_closest_marker("scale"):
        return 0
    if "stack" in item.fixturenames:  # the session's or test_outages' own
        return 1
    return 2 if item.get_closest_marker("slow") else 3


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker under `--dist loadgroup`: order the groups longest first and write
    them where the controller's scheduler reads them (`GroupScheduling`)."""
    target = getattr(config, "workerinput", {}).get(GROUPS)
    if not target:
        return
    groups = {item.nodeid: _group(item) for item in items}
    rank: dict[str, int] = {}
    for item in items:
        key = groups[item.nodeid] or item.nodeid
        rank[key] = min(rank.get(key, 3), _rank(item))
    items.sort(key=lambda item: rank[groups[item.nodeid] or item.nodeid])
    grouped = {nodeid: group for nodeid, group in groups.items() if group}
    partial = Path(f"{target}.{os.getpid()}")  # every worker writes the same: last one wins
    partial.write_text(json.dumps(grouped), encoding="utf-8")
    partial.replace(target)


class GroupScheduling(LoadScopeScheduling):
    """xdist's `loadgroup` with the groups the workers wrote (`_group`): pytest 9.2's node ids
    no longer take the `@group` suffix through which xdist 3.8 passes them (its issue #1386),
    and groups decided from fixtures are added. Scopes go out in collection order when
    `--no-loadscope-reorder` is given."""

    def __init__(self, config: pytest.Config, log: Any, path: Path) -> None:
        super().__init__(config, log)
        self.path = path
        self.groups: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self.groups is None:  # every worker has collected (and written) by now
            self.groups = json.loads(self.path.read_text(encoding="utf-8"))
        return self.groups.get(nodeid, nodeid)


def _groups_file(config: pytest.Config) -> Path | None:
    """Under `--dist loadgroup`, the controller's file of groups (in its temporary folder)."""
    if config.getoption("dist", "no") != "loadgroup":
        return None
    return config._tmp_path_factory.getbasetemp() / "xdist-groups.json"  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> GroupScheduling | None:
    path = _groups_file(config)
    return GroupScheduling(config, log, path) if path else None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Tell each worker where to write the groups (`pytest_collection_modifyitems`)."""
    path = _groups_file(node.config)
    if path:
        node.workerinput[GROUPS] = str(path)


@pytest.fixture(autouse=True)
def _serial_alone(request: pytest.FixtureRequest) -> None:
    """A `serial` test fails, before doing anything, when other tests may run beside it."""
    if request.node.get_closest_marker("serial") and os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.fail("a `serial` test must run alone: run it without -n (make test does)")


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
