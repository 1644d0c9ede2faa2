"""Read a plan document — a text extract or a .docx — into paragraphs and table rows."""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from definitions.text import collapse
from duyet.messages import NOT_A_PLAN

if TYPE_CHECKING:
    from docx.document import Document as WordDocument

# What a Word package may inflate to before python-docx reads it. Word's own files stay far
# below (text deflates about 10:1, pictures not at all); a zip bomb goes to gigabytes.
MAX_UNZIPPED_BYTES = 48 * 1024 * 1024
WORD_COMPRESSION = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
# zipfile's ways of saying a package is damaged (RuntimeError: encrypted members).
BROKEN_ZIP = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError)
# python-docx's: a part missing or of the wrong type, XML that does not parse (lxml's
# XMLSyntaxError is a SyntaxError).
WORD_BROKEN = (zipfile.BadZipFile, KeyError, ValueError, SyntaxError)


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

    package = bounded_package(data)
    if package is None:
        raise NotAPlan(NOT_A_PLAN["docx"].format(path=name))
    try:
        return _word_blocks(docx.Document(package))
    except WORD_BROKEN as exc:  # also while walking a table python-docx cannot lay out
        raise NotAPlan(NOT_A_PLAN["docx"].format(path=name)) from exc


def _word_blocks(document: WordDocument) -> list[Paragraph | Table]:
    from docx.table import Table as DocxTable

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


def bounded_package(data: bytes, limit: int = MAX_UNZIPPED_BYTES) -> io.BytesIO | None:
    """The zip package `data` with every member inflated and stored again uncompressed; None if
    it is not a sound zip or would inflate past `limit` bytes (a zip bomb).

    python-docx reads each part whole, and zipfile inflates a whole member before trimming it to
    the size its header declares: a bomb must never reach it. `read(n)` inflates at most n bytes.
    """
    members: dict[str, bytes] = {}  # a repeated name: the last one counts, as in zipfile
    left = limit
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            for member in package.infolist():
                left -= member.file_size
                if member.compress_type not in WORD_COMPRESSION or left < 0:
                    return None
                with package.open(member) as stream:  # ends at the declared size, CRC checked
                    members[member.filename] = stream.read(member.file_size + 1)
    except BROKEN_ZIP:
        return None
    copy = io.BytesIO()
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as stored:
        for member_name, content in members.items():
            stored.writestr(member_name, content)
    copy.seek(0)
    return copy
