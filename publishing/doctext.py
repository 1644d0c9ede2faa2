"""The readable text of a document version, when it has one: plain text, Markdown or Word."""

from __future__ import annotations

from definitions.sources import WORD_BROKEN, bounded_package

MAX_CHARS = 200_000  # what a page shows; the original is always downloadable
TEXT_TYPES = frozenset({"text/plain", "text/markdown"})
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def document_text(content: bytes, media_type: str) -> str | None:
    """The text to show and compare, or None when the document is not text (PDF, images…)."""
    if media_type in TEXT_TYPES:
        try:
            return content.decode("utf-8-sig")[:MAX_CHARS]
        except UnicodeDecodeError:
            return None
    if media_type == DOCX:
        return _docx_text(content)
    return None


def _docx_text(content: bytes) -> str | None:
    import docx  # python-docx, imported only when a Word document is shown

    package = bounded_package(content)  # a zip bomb is never inflated whole
    if package is None:
        return None
    try:
        document = docx.Document(package)
        paragraphs = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                paragraphs.append(" | ".join(cell.text for cell in row.cells))
    except WORD_BROKEN:  # also a table python-docx cannot lay out
        return None
    return "\n".join(paragraphs)[:MAX_CHARS]
