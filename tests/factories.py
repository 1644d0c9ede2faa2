"""Builders shared by the tests: plan documents in the shapes real departments send."""

from __future__ import annotations

import io
from pathlib import Path

import docx
from docx.table import Table as DocxTable

SEED = (
    Path(__file__).resolve().parents[1] / "definitions" / "seed" / "ke-hoach-cchc-2023-svhttdl.txt"
)
DATA = Path(__file__).resolve().parent / "data"
# A second department (Sở Tư pháp) with its own unit directory; its line codes overlap the seed's.
OTHER_SEED = SEED.with_name("ke-hoach-cchc-2024-stp.txt")
OTHER_UNITS = "units-stp.yaml"
OTHER_PLAN = "ke-hoach-cchc-2024-stp"


def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def _merge_header(table: DocxTable) -> None:
    """The seed's two-row header: "Tổ chức thực hiện" over "Đơn vị chủ trì | Đơn vị phối hợp"."""
    for column in (0, 1, 4, 5):
        top, bottom = table.cell(0, column), table.cell(1, column)
        text = top.text
        merged = top.merge(bottom)
        merged.text = text
    merged = table.cell(0, 2).merge(table.cell(0, 3))
    merged.text = "Tổ chức thực hiện"


def docx_from_text(text: str, *, join_continuations: bool) -> bytes:
    """A Word document with the same paragraphs and table as a text extract.

    With `join_continuations`, rows that a page break split in the extract become one row whose
    cells hold several paragraphs, as in the original document; otherwise they stay separate rows.
    """
    document = docx.Document()
    rows: list[list[str]] = []

    def flush() -> None:
        if not rows:
            return
        width = max(len(r) for r in rows)
        table = document.add_table(rows=len(rows), cols=width)
        for r, cells in enumerate(rows):
            for c, cell_text in enumerate(cells):
                cell = table.cell(r, c)
                lines = cell_text.split("\n")
                cell.text = lines[0]
                for extra in lines[1:]:
                    cell.add_paragraph(extra)
        if width == 6 and rows[1][0] == "":
            _merge_header(table)
        rows.clear()

    for raw in text.splitlines():
        if "\t" in raw:
            cells = raw.split("\t")
            if join_continuations and rows and cells[0] == "" and len(rows) > 2:
                previous = rows[-1]
                for i, cell in enumerate(cells):
                    if cell:
                        previous[i] = f"{previous[i]}\n{cell}" if previous[i] else cell
                continue
            rows.append(cells)
        elif raw.strip():
            flush()
            document.add_paragraph(raw)
    flush()
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
