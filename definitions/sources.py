"""Read a plan document — a text extract or a .docx — into paragraphs and table rows."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from definitions.text import collapse
from duyet.messages import NOT_A_PLAN


class NotAPlan(Exception):
    """The input cannot be a plan; the message says what was expected and where."""


@dataclass(frozen=True)
class Paragraph:
    line: int
    text: str


@dataclass(frozen=True)
class Row:
    line: int
    cells: list[str]


@dataclass(frozen=True)
class Table:
    rows: list[Row]

    @property
    def line(self) -> int:
        return self.rows[0].line


@dataclass(frozen=True)
class SourceDocument:
    name: str
    format: str  # "text" | "docx"
    sha256: str
    blocks: list[Paragraph | Table] = field(default_factory=list)

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


def read_source(path: Path) -> SourceDocument:
    """Read `path`; raise NotAPlan for a missing, empty, binary or unreadable file."""
    if not path.is_file():
        raise NotAPlan(NOT_A_PLAN["missing"].format(path=path))
    data = path.read_bytes()
    return read_bytes(data, name=path.name)


def read_bytes(data: bytes, *, name: str) -> SourceDocument:
    """Read a plan from bytes: .docx when it is a Word package, UTF-8 text otherwise."""
    if not data.strip():
        raise NotAPlan(NOT_A_PLAN["empty"].format(path=name))
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(b"PK\x03\x04"):
        return SourceDocument(name, "docx", digest, _docx_blocks(data, name))
    if b"\x00" in data:
        raise NotAPlan(NOT_A_PLAN["binary"].format(path=name))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotAPlan(NOT_A_PLAN["encoding"].format(path=name, offset=exc.start)) from exc
    return SourceDocument(name, "text", digest, _text_blocks(text))


def _text_blocks(text: str) -> list[Paragraph | Table]:
    """Tab-separated lines make table rows; blank lines inside a run of rows stay in the table."""
    blocks: list[Paragraph | Table] = []
    rows: list[Row] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if "\t" in raw:
            rows.append(Row(number, [collapse(cell) for cell in raw.split("\t")]))
        elif raw.strip() and rows:
            blocks.append(Table(rows))
            rows = []
            blocks.append(Paragraph(number, collapse(raw)))
        elif raw.strip():
            blocks.append(Paragraph(number, collapse(raw)))
    if rows:
        blocks.append(Table(rows))
    return blocks


def _docx_blocks(data: bytes, name: str) -> list[Paragraph | Table]:
    """Paragraphs and tables in document order; a merged cell's text is kept once, top-left."""
    import docx  # python-docx imports lxml: keep it off the text path
    from docx.table import Table as DocxTable

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise NotAPlan(NOT_A_PLAN["docx"].format(path=name)) from exc
    blocks: list[Paragraph | Table] = []
    number = 0
    for item in document.iter_inner_content():
        if isinstance(item, DocxTable):
            rows: list[Row] = []
            above: list[object] = []
            for docx_row in item.rows:
                number += 1
                cells: list[str] = []
                elements: list[object] = []
                for cell in docx_row.cells:
                    element = cell._tc
                    merged = (elements and elements[-1] is element) or (
                        len(above) > len(elements) and above[len(elements)] is element
                    )
                    elements.append(element)
                    cells.append("" if merged else collapse(cell.text))
                above = elements
                rows.append(Row(number, cells))
            if rows:
                blocks.append(Table(rows))
        else:
            number += 1
            if item.text.strip():
                blocks.append(Paragraph(number, collapse(item.text)))
    return blocks
