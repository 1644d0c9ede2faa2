"""Real renders of every document type through WeasyPrint, read back with pypdf and pypdfium2."""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
import unicodedata
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from definitions.doctypes import doc_type
from definitions.loader import load_plan
from definitions.plan import Plan, Signer
from definitions.units import UnitDirectory
from duyet.settings import PROJECT_ROOT
from publishing.render import TEMPLATES, render_document, render_html, template_name
from publishing.skeleton import PLACEHOLDER, skeleton_spec
from publishing.spec import (
    DocumentSpec,
    Figure,
    Heading,
    Issuer,
    Paragraph,
    Rendered,
    SignerBlock,
    Table,
)

ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artefacts" / "documents"
SEED_PLAN = PROJECT_ROOT / "definitions" / "plans" / "ke-hoach-cchc-2023-svhttdl.yaml"

ISSUER = Issuer(
    parent="UBND TỈNH BÌNH DƯƠNG", name="SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH", code="SVHTTDL"
)
DEPUTY = SignerBlock(authority="KT. GIÁM ĐỐC", position="PHÓ GIÁM ĐỐC", name="Trần Văn Nam")
CHART = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="90" viewBox="0 0 320 90">'
    '<rect x="10" y="10" width="220" height="24" fill="#444"/>'
    '<rect x="10" y="50" width="150" height="24" fill="#999"/></svg>'
)
BODY = [
    Paragraph(
        text="Căn cứ Kế hoạch số 15/KH-UBND ngày 10 tháng 01 năm 2023 của Ủy ban nhân dân tỉnh "
        "về cải cách hành chính năm 2023;\nTheo đề nghị của Chánh Văn phòng Sở."
    ),
    Heading(text="I. MỤC ĐÍCH, YÊU CẦU"),
    Paragraph(text="Điều 1. Nâng cao chất lượng giải quyết thủ tục hành chính của Sở."),
    Table(
        header=["STT", "Nội dung", "Đơn vị chủ trì", "Thời gian"],
        rows=[
            ["1", "Rà soát văn bản quy phạm pháp luật", "Văn phòng Sở", "Quý I/2023"],
            ["2", "Kiểm tra công tác cải cách hành chính", "Thanh tra Sở", "Quý III/2023"],
        ],
        widths=[1, 6, 3, 2],
    ),
    Figure(svg=CHART, caption="Biểu đồ 1. Tỷ lệ hồ sơ giải quyết đúng hạn"),
]


def make_spec(type_name: str, **changes: object) -> DocumentSpec:
    kind = doc_type(type_name)
    spec = DocumentSpec(
        type_name=kind.name,
        type_code=kind.abbreviation,
        issuer=ISSUER,
        number=5 if kind.abbreviation else 12,
        unit_code=None if kind.abbreviation else "VP",
        place="Bình Dương",
        date=dt.date(2023, 1, 5),
        year=2023,
        summary="Triển khai công tác cải cách hành chính năm 2023",
        blocks=BODY,
        signer=DEPUTY,
        recipients=["Ủy ban nhân dân tỉnh Bình Dương", "Ban Giám đốc Sở", "Các phòng chuyên môn"],
        storage=["VT", "VP"],
        recorder="Lê Thị Hoa",
    )
    return spec.model_copy(update=changes)


@cache
def rendered(type_name: str) -> Rendered:
    return render_document(make_spec(type_name))


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in reader.pages))


def flat(text: str) -> str:
    """The text with every run of whitespace (line breaks, no-break spaces) as one space."""
    return " ".join(text.split())


def font_names(pdf: bytes) -> set[str]:
    """BaseFont of every font the pages use: `/ABCDEF+Liberation-Serif`."""
    names: set[str] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        fonts = resources["/Font"].get_object()
        assert isinstance(fonts, DictionaryObject)
        names |= {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    return names


SUPPORTED = list(TEMPLATES)
WITH_RECIPIENTS = [t for t in SUPPORTED if t != "Biên bản"]


@pytest.mark.parametrize("type_name", SUPPORTED)
def test_every_type_shows_the_decree_30_header(type_name: str) -> None:
    text = pdf_text(rendered(type_name).pdf)
    spec = make_spec(type_name)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert "UBND TỈNH BÌNH DƯƠNG" in text
    assert spec.number_line in text
    assert "Bình Dương, ngày 05 tháng 01 năm 2023" in text


@pytest.mark.parametrize("type_name", WITH_RECIPIENTS)
def test_every_type_closes_with_recipients_and_a_deputy_signer(type_name: str) -> None:
    text = pdf_text(rendered(type_name).pdf)
    assert "Nơi nhận:" in text
    assert "- Lưu: VT, VP." in text
    assert "KT. GIÁM ĐỐC" in text
    assert "PHÓ GIÁM ĐỐC" in text
    assert "Trần Văn Nam" in text


@pytest.mark.parametrize("type_name", [t for t in SUPPORTED if t != "Công văn"])
def test_typed_documents_carry_their_type_name_and_summary(type_name: str) -> None:
    text = pdf_text(rendered(type_name).pdf)
    assert type_name.upper() in text
    assert "Triển khai công tác cải cách hành chính năm 2023" in text


def test_plan_number_line_is_exact() -> None:
    lines = pdf_text(rendered("Kế hoạch").pdf).splitlines()
    assert any(line.startswith("Số: 05/KH-SVHTTDL") for line in lines)


def test_letter_has_no_type_name_and_its_summary_under_the_number() -> None:
    text = pdf_text(rendered("Công văn").pdf)
    assert "Số: 12/SVHTTDL-VP" in text
    assert "V/v Triển khai công tác" in text
    assert "CÔNG VĂN" not in text
    assert "Kính gửi: Ủy ban nhân dân tỉnh Bình Dương." in text
    assert "- Như trên;" in text


def test_submission_is_addressed_to_its_first_recipient() -> None:
    text = pdf_text(rendered("Tờ trình").pdf)
    assert "Kính gửi: Ủy ban nhân dân tỉnh Bình Dương." in text
    assert "- Như trên;" in text


def test_decision_names_the_enacting_authority_and_its_articles() -> None:
    html = rendered("Quyết định").html
    assert "GIÁM ĐỐC SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH" in pdf_text(rendered("Quyết định").pdf)
    assert '<p class="basis">Căn cứ Kế hoạch' in html
    assert "<b>Điều 1.</b> Nâng cao" in html


def test_minutes_are_signed_by_recorder_and_chair_without_recipients() -> None:
    text = pdf_text(rendered("Biên bản").pdf)
    assert "THƯ KÝ" in text and "Lê Thị Hoa" in text
    assert "CHỦ TỌA" in text and "Trần Văn Nam" in text
    assert "Nơi nhận:" not in text


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (dt.date(2023, 11, 20), "Bình Dương, ngày 20 tháng 11 năm 2023"),
        (dt.date(2023, 2, 3), "Bình Dương, ngày 03 tháng 02 năm 2023"),
    ],
)
def test_date_line_pads_days_and_the_first_two_months(date: dt.date, expected: str) -> None:
    assert expected in pdf_text(render_document(make_spec("Báo cáo", date=date)).pdf)


@pytest.mark.parametrize("type_name", ["Quyết định", "Công văn"])
def test_fonts_are_liberation_serif(type_name: str) -> None:
    # Vietnamese letters (Ơ, Ư, ỹ…) need Liberation 2 (Debian fonts-liberation2): the 1.07 fonts
    # lack them and a fallback font (DejaVu) would show up here.
    names = font_names(rendered(type_name).pdf)
    assert names
    assert all(re.fullmatch(r"/[A-Z]{6}\+Liberation-?Serif[-\w]*", name) for name in names), names


def test_paragraph_newlines_table_and_figure() -> None:
    html = rendered("Kế hoạch").html
    assert html.count("<p") >= 3  # two lines of the first paragraph, then the article
    assert '<col style="width: 8.33%">' in html
    assert "<th>Nội dung</th>" in html
    assert "<svg" in html and "<figcaption>Biểu đồ 1." in html


def test_user_text_is_escaped() -> None:
    spec = make_spec("Báo cáo", summary="Kết quả <script>alert(1)</script> & tồn tại")
    result = render_document(spec)
    assert "<script>" not in result.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; tồn tại" in result.html
    assert "Kết quả <script>alert(1)</script> & tồn tại" in pdf_text(result.pdf)


def test_pdf_metadata_and_identical_renders() -> None:
    spec = make_spec("Kế hoạch")
    first, second = render_document(spec), render_document(spec)
    # Byte-identical only with HarfBuzz subsetting (libharfbuzz-subset0): fontTools dates fonts.
    assert first.pdf == second.pdf
    meta = PdfReader(io.BytesIO(first.pdf)).metadata
    assert meta is not None
    assert meta.title == "Kế hoạch Triển khai công tác cải cách hành chính năm 2023"
    assert meta.author == "SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH"
    assert meta.creation_date is not None and meta.creation_date.date() == dt.date(2023, 1, 5)


def test_draft_is_marked_and_pages_are_numbered_from_the_second() -> None:
    spec = make_spec("Kế hoạch", draft=True, number=None, date=None, blocks=BODY * 4)
    reader = PdfReader(io.BytesIO(render_document(spec).pdf))
    pages = [unicodedata.normalize("NFC", p.extract_text()) for p in reader.pages]
    assert len(pages) >= 2
    assert "DỰ THẢO" in pages[0]
    assert re.search(r"Bình Dương, ngày\s+tháng\s+năm 2023", pages[0])
    assert re.search(r"Số:\s+/KH-SVHTTDL", pages[0])
    assert "1" not in [line.strip() for line in pages[0].splitlines()]
    assert "2" in [line.strip() for line in pages[1].splitlines()]


def test_other_decree_types_use_the_generic_template_and_unknown_ones_fail() -> None:
    assert template_name("Phương án") == "generic.html.j2"
    assert "PHƯƠNG ÁN" in pdf_text(render_document(make_spec("Phương án")).pdf)
    with pytest.raises(KeyError):
        render_html(make_spec("Kế hoạch").model_copy(update={"type_name": "Thư mời họp"}))


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def web_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Handler", (_Recorder,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()
    thread.join()


def test_rendering_fetches_nothing_but_data_urls(
    web_server: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, hits = web_server
    local = tmp_path / "secret.png"
    local.write_bytes(b"not an image")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40">'
        f'<image href="{url}/chart.png" width="40" height="40"/>'
        f'<image href="{local.as_uri()}" x="50" width="40" height="40"/></svg>'
    )
    spec = make_spec("Báo cáo", blocks=[Figure(svg=svg, caption="Biểu đồ")])
    assert render_document(spec).pdf.startswith(b"%PDF")
    assert hits == []


@pytest.mark.parametrize("type_name", SUPPORTED)
def test_page_one_png_for_review(type_name: str) -> None:
    spec = make_spec(type_name, draft=type_name == "Kế hoạch")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTEFACTS / f"{Path(template_name(type_name)).name.split('.')[0]}.png"
    document = pdfium.PdfDocument(render_document(spec).pdf)
    try:
        document[0].render(scale=110 / 72).to_pil().save(target)
    finally:
        document.close()
    from PIL import Image

    with Image.open(target) as image:
        grey = image.convert("L")
        width, height = grey.size
        assert abs(width - 210 / 25.4 * 110) < 2 and abs(height - 297 / 25.4 * 110) < 2
        dark = sum(grey.histogram()[:128])
        assert dark > 0.005 * width * height


# The draft skeleton, built from the shipped plan and unit directory.


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(SEED_PLAN)


def test_skeleton_of_a_plan_line(plan: Plan, directory: UnitDirectory) -> None:
    spec = skeleton_spec(plan=plan, line=plan.line("1.2"), directory=directory)
    assert (spec.type_name, spec.type_code) == ("Kế hoạch", "KH")
    assert spec.summary == plan.line("1.2").title.rstrip(". ")
    assert not spec.summary.endswith(".")
    assert (spec.draft, spec.number, spec.date, spec.year) == (True, None, None, 2023)
    assert spec.issuer == ISSUER
    assert spec.signer == SignerBlock(position="GIÁM ĐỐC", name="Nguyễn Khoa Hải")
    assert spec.recipients == ["Thanh tra Sở", "Các phòng quản lý chuyên môn", "Ban Giám đốc Sở"]
    assert spec.storage == ["VT", "VP"]
    headings = [b.text for b in spec.blocks if isinstance(b, Heading)]
    assert headings == ["I. MỤC ĐÍCH, YÊU CẦU", "II. NỘI DUNG", "III. TỔ CHỨC THỰC HIỆN"]
    text = pdf_text(render_document(spec).pdf)
    assert "DỰ THẢO" in text
    assert PLACEHOLDER in text
    assert "Văn phòng Sở (đơn vị chủ trì)" in text
    assert "các phòng quản lý chuyên môn (đơn vị phối hợp)" in text
    assert "Thời gian thực hiện: Tháng 01/2022." in text
    assert "- Lưu: VT, VP." in text


def test_skeleton_of_a_report_line(plan: Plan, directory: UnitDirectory) -> None:
    spec = skeleton_spec(plan=plan, line=plan.line("2.1.b"), directory=directory)
    assert (spec.type_name, spec.type_code, spec.summary) == (
        "Báo cáo",
        "BC",
        "Rà soát, báo cáo kết quả và kiến nghị",
    )
    headings = [b.text for b in spec.blocks if isinstance(b, Heading)]
    assert headings[:3] == [
        "I. KẾT QUẢ THỰC HIỆN",
        "II. TỒN TẠI, HẠN CHẾ",
        "III. PHƯƠNG HƯỚNG, NHIỆM VỤ",
    ]
    assert "BÁO CÁO" in pdf_text(render_document(spec).pdf)


def test_skeleton_without_a_known_product_is_a_letter(plan: Plan, directory: UnitDirectory) -> None:
    spec = skeleton_spec(plan=plan, line=plan.line("1.4.c"), directory=directory)
    assert (spec.type_name, spec.type_code, spec.symbol) == ("Công văn", None, "SVHTTDL-VP")
    assert "V/v Tổ chức thực hiện Ngày pháp luật" in flat(pdf_text(render_document(spec).pdf))


def test_skeleton_signer_deputy_board_head_and_override(
    plan: Plan, directory: UnitDirectory
) -> None:
    line = plan.line("1.2")
    deputy = plan.model_copy(
        update={"signer": Signer(position="KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC", name="Trần Văn Nam")}
    )
    assert skeleton_spec(plan=deputy, line=line, directory=directory).signer == DEPUTY
    unsigned = plan.model_copy(update={"signer": None})
    assert skeleton_spec(plan=unsigned, line=line, directory=directory).signer == SignerBlock(
        position="GIÁM ĐỐC", name="Nguyễn Khoa Hải"
    )
    chosen = SignerBlock(position="CHÁNH VĂN PHÒNG", name="Trần Thị Thu Hà")
    spec = skeleton_spec(plan=plan, line=line, directory=directory, process_stage_signer=chosen)
    assert spec.signer == chosen
