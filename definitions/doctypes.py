"""Administrative document types (Decree 30/2020/NĐ-CP, appendix III) and how plans name them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from definitions.text import fold


@dataclass(frozen=True)
class DocType:
    name: str
    abbreviation: str | None  # None: Công văn carries no type abbreviation in its symbol
    aliases: tuple[str, ...] = ()


DOC_TYPES: tuple[DocType, ...] = (
    DocType("Nghị quyết", "NQ"),
    DocType("Quyết định", "QĐ", ("quyết định công bố",)),
    DocType("Chỉ thị", "CT"),
    DocType("Quy chế", "QC"),
    DocType("Quy định", "QyĐ"),
    DocType("Thông báo", "TB"),
    DocType("Hướng dẫn", "HD"),
    DocType("Chương trình", "CTr"),
    DocType("Kế hoạch", "KH"),
    DocType("Phương án", "PA"),
    DocType("Đề án", "ĐA"),
    DocType("Dự án", "DA"),
    DocType("Báo cáo", "BC"),
    DocType("Biên bản", "BB"),
    DocType("Tờ trình", "TTr"),
    DocType("Kết luận", "KL"),
    DocType("Hợp đồng", "HĐ"),
    DocType("Công điện", "CĐ"),
    DocType("Bản ghi nhớ", "GN"),
    DocType("Giấy mời", "GM"),
    DocType("Phiếu gửi", "PG"),
    DocType("Thư công", "TC", ("thư xin lỗi", "thư")),
    DocType("Công văn", None, ("văn bản trả lời",)),
)

_WORD = re.compile(r"\w+")


def _phrases() -> list[tuple[tuple[str, ...], DocType]]:
    table: list[tuple[tuple[str, ...], DocType]] = []
    for doc_type in DOC_TYPES:
        names = [doc_type.name, *doc_type.aliases]
        if doc_type.abbreviation:
            names.append(doc_type.abbreviation)
        table.extend((tuple(_WORD.findall(fold(n))), doc_type) for n in names)
    return sorted(table, key=lambda item: -len(item[0]))


_PHRASES = _phrases()


def products_in(text: str) -> list[str]:
    """Names of the document types a product cell mentions, in order of first mention."""
    words = _WORD.findall(fold(text))
    found: list[str] = []
    i = 0
    while i < len(words):
        for phrase, doc_type in _PHRASES:
            if tuple(words[i : i + len(phrase)]) == phrase:
                if doc_type.name not in found:
                    found.append(doc_type.name)
                i += len(phrase)
                break
        else:
            i += 1
    return found


def doc_type(name: str) -> DocType:
    """The document type with this name or abbreviation; KeyError when unknown."""
    key = fold(name)
    for candidate in DOC_TYPES:
        if key in (fold(candidate.name), fold(candidate.abbreviation or "")):
            return candidate
    raise KeyError(name)
