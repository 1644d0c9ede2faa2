"""Checks that find a plan's slips — numbering gaps, duplicates, typos — without fixing them."""

from __future__ import annotations

from collections.abc import Mapping

from definitions.findings import Finding, Severity
from definitions.plan import Plan
from definitions.text import fold

VIETNAMESE_LETTERS = "abcdđeghiklmnopqrstuvxy"

# Misspellings seen in real plans; the right spelling is what the clerk meant.
TYPOS: dict[str, str] = {
    "trực tuyển": "trực tuyến",
    "tuyên truyển": "tuyên truyền",
    "phổ biển": "phổ biến",
    "chuyển đồi": "chuyển đổi",
}


def _rank(part: str) -> int | None:
    if part.isdigit():
        return int(part)
    if part in VIETNAMESE_LETTERS:
        return VIETNAMESE_LETTERS.index(part) + 1
    return None


def _label(parent: str, rank: int, numeric: bool) -> str:
    part = str(rank) if numeric else VIETNAMESE_LETTERS[rank - 1]
    return f"{parent}.{part}" if parent else part


def check_numbering(coded: list[tuple[str, int]]) -> list[Finding]:
    """Missing, duplicated and out-of-order codes among siblings (`3.3` between 3.2 and 3.4)."""
    findings: list[Finding] = []
    first_seen: dict[str, int] = {}
    last: dict[str, tuple[int, str]] = {}
    for code, line in coded:
        if code in first_seen:
            findings.append(
                Finding(
                    code="duplicate-code",
                    params={"code": code, "first": first_seen[code]},
                    severity=Severity.ERROR,
                    line=line,
                    subject=code,
                )
            )
            continue
        first_seen[code] = line
        parent, _, part = code.rpartition(".")
        rank = _rank(part)
        if rank is None:
            continue
        previous_rank, previous_code = last.get(parent, (0, ""))
        if rank <= previous_rank:
            findings.append(
                Finding(
                    code="out-of-order",
                    params={"code": code, "before": previous_code},
                    line=line,
                    subject=code,
                )
            )
        for gap in range(previous_rank + 1, rank):
            findings.append(
                Finding(
                    code="missing-code",
                    params={
                        "code": _label(parent, gap, part.isdigit()),
                        "before": previous_code or "—",
                        "after": code,
                    },
                    line=line,
                    subject=_label(parent, gap, part.isdigit()),
                )
            )
        last[parent] = (max(rank, previous_rank), code)
    return findings


def check_text(fields: Mapping[str, str], *, line: int) -> list[Finding]:
    """Known misspellings in a line's cells."""
    findings = []
    for field, text in fields.items():
        folded = fold(text)
        for wrong, right in TYPOS.items():
            if wrong in folded:
                findings.append(
                    Finding(
                        code="typo",
                        params={"found": wrong, "expected": right, "field": field},
                        line=line,
                    )
                )
    return findings


def all_findings(plan: Plan) -> list[Finding]:
    """Every finding of the plan and its lines, in source order."""
    found = list(plan.warnings)
    for line in plan.lines:
        found.extend(line.warnings)
    return sorted(found, key=lambda f: (f.line or 0, f.severity != Severity.ERROR))


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == Severity.ERROR for f in findings)
