"""Write docs/reliability.md from the rows the last `-m faults` run recorded.

.venv/bin/pytest -m faults && .venv/bin/python -m tests.faults.report
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

from tests.faults.ledger import ROWS

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
FIGURES = ("cycles", "open", "versions", "decisions", "links_used", "mails", "mails_sent", "audit")

INTRO = """# Reliability: faults and attacks

Each row is one test of the `faults` tier (`tests/faults/`), run against real components: a
`prefect server start` with a process worker, the portal (uvicorn or in-process ASGI), aiosmtpd on
loopback, SQLite files and the PostgreSQL server. A test counts the records before and after what
it injects and asserts the counts; the figures below are those of the last run.

Rerun: `.venv/bin/pytest -m faults` (part of `make test`), then
`.venv/bin/python -m tests.faults.report` to rewrite this file.

Figures, before → after: cycles (open), document versions, decisions, links used, mails queued
(sent), audit entries.
"""


def _pair(row: dict[str, object], key: str) -> str:
    before = row["before"].get(key)  # type: ignore[attr-defined]
    after = row["after"].get(key)  # type: ignore[attr-defined]
    if before is None and after is None:
        return "—"
    return f"{before} → {after}" if before != after else f"{after}"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(rows: list[dict[str, object]]) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    last = max((str(r["at"]) for r in rows), default="—")
    lines = [
        INTRO,
        f"Last run: {last} UTC, commit `{commit or '?'}`, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}; {len(rows)} scenarios.\n",
        "| scenario | injected | cycles (open) | versions | decisions | links used | mails (sent)"
        " | audit | observed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in sorted(rows, key=lambda r: str(r["test"])):
        cycles = f"{_pair(row, 'cycles')} ({_pair(row, 'open')})"
        mails = f"{_pair(row, 'mails')} ({_pair(row, 'mails_sent')})"
        observed = _cell(row["observed"])
        extra = row.get("extra") or {}
        if extra:
            observed += " — " + ", ".join(f"{k}: {v}" for k, v in extra.items())  # type: ignore[attr-defined]
        lines.append(
            f"| {_cell(row['scenario'])} | {_cell(row['injected'])} | {cycles} | "
            f"{_pair(row, 'versions')} | {_pair(row, 'decisions')} | {_pair(row, 'links_used')} | "
            f"{mails} | {_pair(row, 'audit')} | {observed} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    rows = [json.loads(p.read_text("utf-8")) for p in sorted(ROWS.glob("*.json"))]
    if not rows:
        print(f"no rows under {ROWS}: run `pytest -m faults` first", file=sys.stderr)
        return 1
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render(rows), "utf-8")
    print(f"{DOC}: {len(rows)} scenarios")
    return 0


if __name__ == "__main__":
    sys.exit(main())
