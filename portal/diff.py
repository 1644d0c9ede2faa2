"""What changed between two versions of a document, line by line, for people to read."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

CONTEXT = 2  # unchanged lines kept around each change
MAX_LINES = 5000

RowKind = Literal["same", "del", "ins", "gap"]


@dataclass(frozen=True)
class DiffRow:
    kind: RowKind
    old_no: int | None
    new_no: int | None
    text: str


@dataclass(frozen=True)
class Diff:
    """`comparable` is False when either side is not text; `rows` empty when nothing changed."""

    comparable: bool
    rows: tuple[DiffRow, ...] = ()
    added: int = 0
    removed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def diff_texts(old: str | None, new: str | None) -> Diff:
    """Deleted and inserted lines with a little unchanged context; long runs become gaps."""
    if old is None or new is None:
        return Diff(comparable=False)
    a, b = old.splitlines()[:MAX_LINES], new.splitlines()[:MAX_LINES]
    rows: list[DiffRow] = []
    added = removed = 0
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for group in matcher.get_grouped_opcodes(CONTEXT):
        if rows:
            rows.append(DiffRow("gap", None, None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(
                    DiffRow("same", i + 1, j + 1, a[i])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                )
                continue
            rows.extend(DiffRow("del", i + 1, None, a[i]) for i in range(i1, i2))
            rows.extend(DiffRow("ins", None, j + 1, b[j]) for j in range(j1, j2))
            removed += i2 - i1
            added += j2 - j1
    return Diff(comparable=True, rows=tuple(rows), added=added, removed=removed)
