"""The periodic report on a real records database with the seed plan: three lines moved through
real cycles on a 2023 clock, then compiled, issued (BC register, signed), mailed with its XLSX
annex, written by `duyet report`, and issued by the `progress-report` flow on a Prefect API."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest
import typer
from openpyxl import load_workbook
from PIL import Image
from prefect.settings import PREFECT_HOME, PREFECT_LOCAL_STORAGE_PATH, temporary_settings
from prefect.testing.utilities import prefect_test_harness
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from sqlalchemy import func, select
from typer.testing import CliRunner

from definitions.loader import load_plan
from definitions.plan import Plan, ReportingDate
from definitions.stage_rules import Stage
from duyet.cli_report import report_command
from duyet.definition_files import definitions
from duyet.records_bridge import record_import
from duyet.settings import Settings, get_settings
from flows.reports import progress_report
from publishing.annex import SHEET, XLSX_TYPE
from publishing.issue import ensure_signing_keys, issue_cycle_document
from publishing.report import Report, compile_report
from publishing.reporting import IssuedReport, issue_report
from publishing.signing import verify_pdf
from publishing.spec import Figure, Paragraph, Table
from records.cycles import advance_stage, open_cycle, publish_document
from records.documents import submit_version
from records.engine import session_scope, transaction
from records.migrate import upgrade
from records.models import Mail, PublishedDocument
from records.numbering import current_number
from tests.portal.conftest import portal_env
from tests.portal.factories import SEED_PLAN

ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artefacts" / "documents"
UTC = dt.UTC
# The flow's run on the first reporting date: 07:30 in Bình Dương.
REPORT_AT = dt.datetime(2023, 3, 5, 0, 30, tzinfo=UTC)
QUY_I = ReportingDate(period="Quý I", due=dt.date(2023, 3, 5))
SECTIONS = (
    "Cải cách thể chế",
    "Cải cách thủ tục hành chính",
    "Cải cách chế độ công vụ",
    "Công tác chỉ đạo, điều hành",
)
# Before 05/3/2023 these lines were due and nobody opened a cycle for them.
LATE_UNOPENED = ("1.3", "2.1.a", "4.3.a", "7.1", "7.2")
DRAFT = "I. KẾT QUẢ\nĐã rà soát các văn bản của Ngành.\n".encode()


def on(month: int, day: int) -> dt.datetime:
    return dt.datetime(2023, month, day, 2, 0, tzinfo=UTC)


def local_end(month: int, day: int) -> dt.datetime:
    return dt.datetime(2023, month, day, 16, 59, 59, tzinfo=UTC)  # 23:59:59 in Bình Dương


def move_lines(settings: Settings) -> None:
    """1.2 published in January; 2.2.đ out for review until 15/3; 1.1 at draft, due 15/2."""
    defs = definitions(settings)
    # Its own engine, disposed at the end: the WAL is folded into the file the tests copy.
    with transaction(settings.database_url) as session:
        published = open_cycle(
            session, plan_key=SEED_PLAN, line_code="1.2", opened_by="vp", now=on(1, 5)
        )
        submit_version(
            session,
            cycle_id=published.id,
            content=DRAFT,
            filename="du-thao.txt",
            media_type="text/plain",
            submitted_by="van-phong",
            max_bytes=settings.max_document_bytes,
            now=on(1, 6),
        )
        for stage in (Stage.REVIEW, Stage.APPROVAL, Stage.PUBLICATION):
            advance_stage(session, cycle_id=published.id, target=stage, actor="t", now=on(1, 10))
        issue_cycle_document(
            session, settings, defs, cycle_id=published.id, actor="t", now=on(1, 20)
        )
        publish_document(session, cycle_id=published.id, actor="t", now=on(1, 20))

        review = open_cycle(
            session, plan_key=SEED_PLAN, line_code="2.2.đ", opened_by="vp", now=on(2, 1)
        )
        submit_version(
            session,
            cycle_id=review.id,
            content=DRAFT,
            filename="du-thao.txt",
            media_type="text/plain",
            submitted_by="van-phong",
            max_bytes=settings.max_document_bytes,
            now=on(2, 2),
        )
        advance_stage(
            session,
            cycle_id=review.id,
            target=Stage.REVIEW,
            actor="t",
            stage_deadline=local_end(3, 15),
            now=on(2, 3),
        )
        open_cycle(
            session,
            plan_key=SEED_PLAN,
            line_code="1.1",
            opened_by="vp",
            stage_deadline=local_end(2, 15),
            now=on(2, 1),
        )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A records database with the seed plan and the three lines moved; signing keys beside."""
    root = tmp_path_factory.mktemp("report")
    settings = get_settings(env_of(root, keys=root / "keys"))
    upgrade(settings.database_url)
    record_import(load_plan(settings.plans_dir / f"{SEED_PLAN}.yaml"), settings=settings, actor="t")
    assert "SVHTTDL" in ensure_signing_keys(settings, definitions(settings))
    move_lines(settings)
    return root


def env_of(root: Path, *, keys: Path) -> dict[str, str]:
    return portal_env(root) | {"DUYET_SIGNING_KEYS_DIR": str(keys)}


@pytest.fixture
def env(tmp_path: Path, seeded: Path) -> dict[str, str]:
    """DUYET_* of a fresh copy of the seeded records, with the seeded signing keys."""
    shutil.copy(seeded / "duyet.db", tmp_path / "duyet.db")
    return env_of(tmp_path, keys=seeded / "keys")


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return get_settings(env)


@pytest.fixture
def plan(settings: Settings) -> Plan:
    return definitions(settings).plan(SEED_PLAN)


def compiled(settings: Settings, plan: Plan) -> Report:
    with session_scope(settings.database_url) as session:
        return compile_report(session, definitions(settings), plan, period=QUY_I, now=REPORT_AT)


def issue(settings: Settings, plan: Plan, *, now: dt.datetime = REPORT_AT) -> IssuedReport:
    defs = definitions(settings)
    with session_scope(settings.database_url) as session:
        return issue_report(session, settings, defs, plan, period=QUY_I, now=now, actor="t")


def pdf_text(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return unicodedata.normalize("NFC", "\n".join(page.extract_text() for page in pages))


def flat(text: str) -> str:
    return " ".join(text.split())


def test_totals_count_every_line_where_it_stands(settings: Settings, plan: Plan) -> None:
    report = compiled(settings, plan)
    totals = report.totals
    assert (totals.lines, totals.published, totals.not_started, totals.stopped) == (44, 1, 41, 0)
    assert totals.in_progress == {"draft": 1, "review": 1}
    assert totals.overdue == 6
    assert sorted(line.code for line in report.lines if line.overdue) == sorted(
        ["1.1", *LATE_UNOPENED]
    )
    spec = report.spec
    assert (spec.type_name, spec.type_code, spec.number, spec.draft) == (
        "Báo cáo",
        "BC",
        None,
        False,
    )
    assert spec.summary == (
        "Kết quả thực hiện Kế hoạch triển khai công tác Cải cách hành chính năm 2023 của Sở "
        "Văn hóa, Thể thao và Du lịch tỉnh Bình Dương quý I năm 2023"
    )
    assert spec.recipients == ["Ban Giám đốc Sở"] and spec.storage == ["VT", "VP"]
    assert spec.signer.name == "Nguyễn Khoa Hải"
    [by_section, overdue, coming] = [b for b in spec.blocks if isinstance(b, Table)]
    assert by_section.rows[-1] == ["Tổng cộng", "44", "1", "2", "41", "6"]
    assert by_section.rows[0] == ["1. Cải cách thể chế", "8", "1", "1", "6", "2"]
    assert [row[0] for row in overdue.rows] == ["1.1", "1.3", "2.1.a", "4.3.a", "7.1", "7.2"]
    assert overdue.rows[0][-1] == "Dự thảo (hạn giai đoạn 15/02/2023)"
    assert [row[0] for row in coming.rows] == ["2.2.đ"]  # in review; nothing else due by 05/6
    captions = [b.caption for b in spec.blocks if isinstance(b, Figure)]
    assert [caption[:10] for caption in captions] == ["Biểu đồ 1.", "Biểu đồ 2."]
    assert isinstance(spec.blocks[-1], Paragraph)
    assert spec.blocks[-1].text == "(Chi tiết từng nhiệm vụ tại Phụ lục kèm theo.)"


def test_the_issued_report_is_numbered_signed_and_laid_out(settings: Settings, plan: Plan) -> None:
    issued = issue(settings, plan)
    assert issued.number_line == "Số: 01/BC-SVHTTDL" and not issued.found
    assert issued.record.filename == "01-BC-SVHTTDL.pdf"
    text = pdf_text(issued.pdf)
    for expected in (
        "BÁO CÁO",
        "Số: 01/BC-SVHTTDL",
        "Bình Dương, ngày 05 tháng 3 năm 2023",
        "quý I năm 2023",
        "I. KẾT QUẢ THỰC HIỆN",
        *SECTIONS,
        "II. TỒN TẠI, HẠN CHẾ",
        "III. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI",
        "(Chi tiết từng nhiệm vụ tại Phụ lục kèm theo.)",
        "Nơi nhận:",
        "Lưu: VT, VP.",
        "Nguyễn Khoa Hải",
    ):
        assert expected in flat(text), expected
    shortcomings = flat(text).split("II. TỒN TẠI, HẠN CHẾ")[1].split("III. PHƯƠNG HƯỚNG")[0]
    assert "1.1" in shortcomings and "2.2.đ" not in shortcomings
    assert "DỰ THẢO" not in text
    ca = settings.keys_dir("SVHTTDL") / "ca.pem"
    verification = verify_pdf(issued.pdf, trust_roots=[ca])
    assert verification.ok, verification.problems
    # Liberation Serif for the text, Liberation Sans (Arial's metrics) for the charts; a
    # fallback font (DejaVu) here would mean a Vietnamese letter the fonts lack.
    fonts = fonts_of(issued.pdf)
    assert any("Liberation-Sans" in name for name in fonts), fonts
    assert all(re.fullmatch(r"/[A-Z]{6}\+Liberation-?(Serif|Sans)[-\w]*", f) for f in fonts), fonts
    keep_png(issued.pdf, "bao-cao-dinh-ky")


def test_the_annex_lists_every_line_with_real_dates(settings: Settings, plan: Plan) -> None:
    report = compiled(settings, plan)
    assert compiled(settings, plan).xlsx == report.xlsx  # same records and clock: same bytes
    workbook = load_workbook(io.BytesIO(report.xlsx))
    sheet = workbook[SHEET]
    assert workbook.sheetnames == [SHEET]
    assert sheet.max_row == 45 and sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Mã", "Nhiệm vụ", "Đơn vị chủ trì"]
    assert header[-1] == "Văn bản đã ban hành" and len(header) == 13
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.column_dimensions["B"].width == 60
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert len(rows) == 44
    published = rows["1.2"]
    assert published[7].value == "Đã ban hành"
    assert published[12].value == "01/KH-SVHTTDL ngày 20/01/2023"
    assert published[6].is_date and published[6].value == dt.datetime(2022, 1, 31)
    assert published[6].number_format == "DD/MM/YYYY"
    review = rows["2.2.đ"]
    assert (review[7].value, review[8].value, review[9].value) == (
        "Đang thực hiện",
        "Lấy ý kiến",
        1,
    )
    assert review[10].is_date and review[10].value == dt.datetime(2023, 3, 15)
    assert review[11].value  # the units that have not answered yet
    assert rows["1.3"][7].value == "Quá hạn" and rows["1.3"][8].value is None
    assert workbook.properties.created == dt.datetime(2023, 3, 5, 0, 30)


def test_issuing_twice_gives_one_document_and_one_mail_each(settings: Settings, plan: Plan) -> None:
    first = issue(settings, plan)
    again = issue(settings, plan, now=REPORT_AT + dt.timedelta(hours=3))
    assert again.found and again.record.id == first.record.id
    assert (again.pdf, again.annex) == (first.pdf, first.annex)
    with session_scope(settings.database_url) as session:
        reports = session.scalar(
            select(func.count())
            .select_from(PublishedDocument)
            .where(PublishedDocument.type_key == "BC")
        )
        assert reports == 1
        assert current_number(session, issuer_code="SVHTTDL", year=2023, type_key="BC") == 1
        mails = session.scalars(select(Mail).where(Mail.kind == "progress_report")).all()
        assert sorted(mail.recipient for mail in mails) == ["ban-giam-doc", "van-phong"]
        office = next(mail for mail in mails if mail.recipient == "van-phong")
        assert office.to_addr == "vanphong@svhttdl.example"
        assert office.subject == (
            "01/BC-SVHTTDL — Báo cáo kết quả thực hiện kế hoạch quý I năm 2023"
        )
        assert [(a["filename"], a["media_type"], a["sha256"]) for a in office.attachments] == [
            ("01-BC-SVHTTDL.pdf", "application/pdf", first.record.sha256),
            ("01-BC-SVHTTDL-phu-luc.xlsx", XLSX_TYPE, first.record.source_sha256),
        ]
        assert first.record.sha256 == hashlib.sha256(first.pdf).hexdigest()
        assert first.record.source_sha256 == hashlib.sha256(first.annex).hexdigest()
        assert f"http://portal.test/van-ban/{first.record.id}" in office.text_body
        assert "Số: 01/BC-SVHTTDL" in office.text_body


def cli(settings_env: dict[str, str], *args: str) -> tuple[int, str]:
    app = typer.Typer()
    app.command()(report_command)
    result = CliRunner().invoke(app, list(args), env=settings_env)
    return result.exit_code, result.output


def test_the_command_refuses_to_sign_without_keys(tmp_path: Path, seeded: Path) -> None:
    shutil.copy(seeded / "duyet.db", tmp_path / "duyet.db")
    env = env_of(tmp_path, keys=tmp_path / "no-keys")
    code, output = cli(env, SEED_PLAN, "--period", "Quý I", "--out", str(tmp_path / "out"))
    assert code == 2
    assert "duyet keys init" in flat(output) and "SVHTTDL" in output
    assert not (tmp_path / "out").exists() and not (tmp_path / "no-keys").exists()
    with session_scope(get_settings(env).database_url) as session:
        assert current_number(session, issuer_code="SVHTTDL", year=_this_year(), type_key="BC") == 0


def test_the_command_issues_and_writes_both_files(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "out"
    code, output = cli(env, SEED_PLAN, "--period", "quý i", "--out", str(out))
    assert code == 0, output
    assert "Đã ban hành báo cáo 01/BC-SVHTTDL" in flat(output)
    assert sorted(p.name for p in out.iterdir()) == [
        "01-BC-SVHTTDL-phu-luc.xlsx",
        "01-BC-SVHTTDL.pdf",
    ]
    assert "Báo cáo: " in output and "Phụ lục: " in output
    code, output = cli(env, SEED_PLAN, "--period", "Quý I", "--out", str(out))
    assert code == 0 and "đã được ban hành trước đó: 01/BC-SVHTTDL" in flat(output)
    code, output = cli(env, SEED_PLAN, "--period", "Quý II")
    assert code == 2 and "«6 tháng»" in output


def _this_year() -> int:
    return dt.datetime.now(dt.UTC).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).year


def keep_png(pdf: bytes, name: str) -> None:
    """Page 1 as an image in var/test-artefacts/documents, for a person to look at."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    document = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(document)):
            suffix = "" if index == 0 else f"-{index + 1}"
            document[index].render(scale=110 / 72).to_pil().save(ARTEFACTS / f"{name}{suffix}.png")
    finally:
        document.close()
    with Image.open(ARTEFACTS / f"{name}.png") as image:
        width, height = image.size
        assert abs(width - 210 / 25.4 * 110) < 2 and abs(height - 297 / 25.4 * 110) < 2


def fonts_of(pdf: bytes) -> set[str]:
    names: set[str] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        fonts = resources.get("/Font")
        if fonts is not None:
            names |= {str(font.get_object()["/BaseFont"]) for font in fonts.get_object().values()}
    return names


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A real Prefect API (a server on loopback) for this module; results kept in a temp home."""
    home = tmp_path_factory.mktemp("prefect-home")
    updates = {PREFECT_HOME: home, PREFECT_LOCAL_STORAGE_PATH: home / "storage"}
    with temporary_settings(updates=updates), prefect_test_harness():
        yield


@pytest.mark.slow
def test_the_flow_issues_the_report_of_the_period_and_returns_its_number(
    prefect_api: None, env: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env.items():  # the flow and its task read their settings from here
        monkeypatch.setenv(key, value)
    assert progress_report(SEED_PLAN, "Quý I") == "Số: 01/BC-SVHTTDL"
    assert progress_report(SEED_PLAN, "Quý I") == "Số: 01/BC-SVHTTDL"  # a new run finds it
    with session_scope(settings.database_url) as session:
        [record] = session.scalars(
            select(PublishedDocument).where(PublishedDocument.type_key == "BC")
        ).all()
        assert record.title.endswith("quý I năm 2023") and record.cycle_id is None
        mails = session.scalars(select(Mail).where(Mail.kind == "progress_report")).all()
        assert len(mails) == 2
