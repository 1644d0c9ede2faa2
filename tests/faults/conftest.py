"""The faults-and-attacks tier (`-m faults`): each scenario runs real components, injects one
fault or attack, asserts the counts, and records them for docs/reliability.md."""

from __future__ import annotations

import pytest

from tests.faults.ledger import Ledger


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def ledger(request: pytest.FixtureRequest) -> Ledger:
    return Ledger(request.node.nodeid)
