"""Find the plan's table, its columns by meaning, and merge rows split by page breaks."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from definitions.sources import NotAPlan, Row, SourceDocument, Table
from definitions.text import collapse, unaccent
from duyet.messages import COLUMN_NAMES, NOT_A_PLAN


class Column(StrEnum):
    CODE = "code"
    TITLE = "title"
    LEAD = "lead"
    PARTNERS = "partners"
    PRODUCT = "product"
    TIME = "time"


# Checked in order: the first column whose keywords appear in a header cell names it.
_KEYWORDS: list[tuple[Column, tuple[str, ...]]] = [
    (Column.LEAD, ("chu tri",)),
    (Column.PARTNERS, ("phoi hop",)),
    (Column.TIME, ("thoi gian", "thoi han", "tien do", "hoan thanh", "thoi diem")),
    (Column.PRODUCT, ("san pham", "ket qua", "hinh thuc")),
    (Column.TITLE, ("noi dung", "nhiem vu", "cong viec", "ten")),
]
_CODE_HEADERS = {"stt", "tt", "so tt", "so thu tu", "thu tu", "s tt", "ma"}


@dataclass
class Record:
    """One logical row: a row of the table plus its continuation rows, cell by cell."""

    line: int
    cells: dict[Column, list[str]] = field(default_factory=dict)

    def text(self, column: Column) -> str:
        return collapse(" ".join(self.cells.get(column, [])))

    def extend(self, column: Column, text: str) -> None:
        if text:
            self.cells.setdefault(column, []).append(text)


@dataclass(frozen=True)
class PlanTable:
    table: Table
    columns: dict[Column, int]
    header_rows: int
    records: list[Record]


def _column_of(cell: str) -> Column | None:
    key = unaccent(cell).strip(" .:")
    if key in _CODE_HEADERS:
        return Column.CODE
    padded = f" {key.replace('/', ' ')} "
    for column, words in _KEYWORDS:
        if any(f" {word} " in padded for word in words):
            return column
    return None


def _header(rows: list[Row]) -> tuple[int, dict[Column, int], int] | None:
    """(index of the first header row, columns, number of header rows) in the first rows."""
    for index, row in enumerate(rows[:6]):
        columns: dict[Column, int] = {}
        for position, cell in enumerate(row.cells):
            column = _column_of(cell)
            if column is not None and column not in columns:
                columns[column] = position
        if len(columns) < 2 or Column.TITLE not in columns:
            continue
        depth = 1
        if index + 1 < len(rows):
            below = rows[index + 1]
            added = {
                c: p
                for p, cell in enumerate(below.cells)
                if (c := _column_of(cell)) is not None and c not in columns
            }
            if added:
                columns.update(added)
                depth = 2
        return index, columns, depth
    return None


def find_plan_table(source: SourceDocument) -> PlanTable:
    """The first table whose header names at least a number, a task and a lead unit or a time."""
    tables = source.tables
    if not tables:
        raise NotAPlan(NOT_A_PLAN["no-table"].format(path=source.name))
    best_missing: tuple[Table, list[Column]] | None = None
    for table in tables:
        found = _header(table.rows)
        if found is None:
            continue
        start, columns, depth = found
        missing = [c for c in (Column.CODE, Column.TITLE) if c not in columns]
        if Column.LEAD not in columns and Column.TIME not in columns:
            missing.append(Column.LEAD)
        if missing:
            best_missing = best_missing or (table, missing)
            continue
        records = _records(table.rows[start + depth :], columns)
        return PlanTable(table, columns, depth, records)
    if best_missing is not None:
        table, missing = best_missing
        names = ", ".join(COLUMN_NAMES[c.value] for c in missing)
        raise NotAPlan(
            NOT_A_PLAN["no-columns"].format(path=source.name, line=table.line, missing=names)
        )
    raise NotAPlan(NOT_A_PLAN["no-table"].format(path=source.name))


def _records(rows: list[Row], columns: dict[Column, int]) -> list[Record]:
    """Rows with a number start a record; rows without one continue the record above."""
    records: list[Record] = []
    for row in rows:
        cells = {c: (row.cells[p] if p < len(row.cells) else "") for c, p in columns.items()}
        if not any(cells.values()):
            continue
        if cells.get(Column.CODE) or not records:
            record = Record(row.line)
            records.append(record)
        else:
            record = records[-1]
        for column, text in cells.items():
            record.extend(column, text)
    return records
