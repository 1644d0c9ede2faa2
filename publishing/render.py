"""Lay a `DocumentSpec` out as a Decree 30/2020/NĐ-CP page: HTML by Jinja, PDF by WeasyPrint."""

from __future__ import annotations

import re
from functools import cache

import jinja2
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from definitions.doctypes import doc_type
from publishing.spec import DocumentSpec, Rendered

# Document type -> template; a type of DOC_TYPES missing here gets the generic layout.
TEMPLATES: dict[str, str] = {
    "Kế hoạch": "ke_hoach.html.j2",
    "Báo cáo": "bao_cao.html.j2",
    "Quyết định": "quyet_dinh.html.j2",
    "Công văn": "cong_van.html.j2",
    "Quy chế": "quy_che.html.j2",
    "Thông báo": "thong_bao.html.j2",
    "Biên bản": "bien_ban.html.j2",
    "Tờ trình": "to_trinh.html.j2",
    "Nghị quyết": "nghi_quyet.html.j2",
    "Hướng dẫn": "huong_dan.html.j2",
    "Chương trình": "chuong_trinh.html.j2",
}
GENERIC_TEMPLATE = "generic.html.j2"

_ARTICLE = re.compile(r"^(Điều\s+\d+[a-zđ]?\.)\s*(.*)$", re.DOTALL)
_SECTION = re.compile(r"^[IVXLC]+\.\s")
_CHAPTER = re.compile(r"^(Chương|Mục|Phần)\s+[IVXLC\d]+\b")
NBSP = "\u00a0"
_ENACTING = ("QUYẾT ĐỊNH:", "QUYẾT NGHỊ:")
_SIGNING_FOR = re.compile(r"^(KT|TM|TL|TUQ|Q)\.\s*")  # "KT. GIÁM ĐỐC" signs for "GIÁM ĐỐC"


def template_name(type_name: str) -> str:
    """The template of a document type; KeyError when Decree 30 does not know the type."""
    return TEMPLATES.get(doc_type(type_name).name, GENERIC_TEMPLATE)


def document_title(spec: DocumentSpec) -> str:
    """`Kế hoạch Ban hành kế hoạch…`: the type name and the trích yếu, as the PDF title."""
    return f"{spec.type_name} {spec.summary}"


def _lines(text: str) -> list[str]:
    """Each non-empty line of a paragraph's text is a paragraph of its own."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _article(line: str) -> tuple[str | None, str]:
    """`("Điều 1.", "Ban hành…")`, or `(None, line)` when the line is no article."""
    match = _ARTICLE.match(line)
    return (match[1], match[2]) if match else (None, line)


def _paragraph_class(line: str) -> str:
    return "basis" if line.startswith("Căn cứ") else ""


def _heading_class(text: str) -> str:
    if text.strip() in _ENACTING:
        return "enacting"
    if _CHAPTER.match(text):
        return "chapter"
    return "section" if _SECTION.match(text) else ""


def _keep_tail(name: str) -> str:
    """Glue the words from the last " VÀ " on: a long name wraps as "… THAO / VÀ DU LỊCH"."""
    head, sep, tail = name.rpartition(" VÀ ")
    return f"{head} {(sep.strip() + ' ' + tail).replace(' ', NBSP)}" if sep else name


def _percentages(widths: list[int]) -> list[str]:
    total = sum(widths) or 1
    return [f"{100 * w / total:.2f}" for w in widths]


def _enacting_authority(spec: DocumentSpec) -> str:
    """`GIÁM ĐỐC SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH`: who decides, even when a deputy signs; a
    collective body signing `TM.` decides as itself: `ỦY BAN NHÂN DÂN TỈNH BÌNH DƯƠNG`."""
    head = _SIGNING_FOR.sub("", spec.signer.authority or spec.signer.position)
    if spec.issuer.name.startswith(head):
        return spec.issuer.name
    return f"{head} {spec.issuer.name}"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("publishing", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        lines=_lines,
        article=_article,
        paragraph_class=_paragraph_class,
        heading_class=_heading_class,
        percentages=_percentages,
        keep_tail=_keep_tail,
        enacting_authority=_enacting_authority,
    )
    return env


def render_html(spec: DocumentSpec) -> str:
    """The document as a self-contained HTML page."""
    template = _environment().get_template(template_name(spec.type_name))
    return template.render(spec=spec, title=document_title(spec))


def render_document(spec: DocumentSpec) -> Rendered:
    """HTML and PDF of the document; the same spec gives the same bytes.

    Needs Debian's fonts-liberation2 (Vietnamese letters) and libharfbuzz-subset0 (fontTools,
    WeasyPrint's fallback subsetter, stamps each embedded font with the current time).
    """
    html = render_html(spec)
    # data: URLs only: a document never reaches the network or the file system. A refused
    # resource is logged by WeasyPrint and left out; the page still renders.
    offline = URLFetcher(allowed_protocols={"data"})
    pdf = HTML(string=html, base_url=None, url_fetcher=offline).write_pdf()
    return Rendered(html=html, pdf=pdf)
