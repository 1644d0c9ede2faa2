"""Publication the Vietnamese way, end to end on a real records database: a cycle's approved
draft is numbered, laid out per Decree 30, rendered, signed (PAdES), kept, mailed, and listed in
the public register and its Atom feed."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import CliRunner

from definitions.stage_rules import Stage
from duyet.cli import app as cli
from duyet.definition_files import definitions
from duyet.engine import evaluate
from duyet.settings import Settings
from publishing.issue import Issued, ensure_signing_keys, issue_cycle_document
from publishing.signing import verify_pdf
from records.cycle_reads import get_cycle
from records.cycles import advance_stage, open_cycle, publish_document
from records.documents import submit_version
from records.engine import session_scope
from records.models import Mail
from records.publications import list_published
from tasks.cycle import ACTOR
from tasks.mail import published
from tests.portal.conftest import portal_env
from tests.portal.factories import SEED_PLAN

ATOM = "{http://www.w3.org/2005/Atom}"
DECISION = "Ban hành Quy chế quản lý hoạt động văn hóa trên địa bàn tỉnh Bình Dương"
ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artefacts" / "documents"
DRAFT = """I. MỤC ĐÍCH, YÊU CẦU
Kiểm tra, rà soát, hệ thống hóa văn bản quy phạm pháp luật trong lĩnh vực của Ngành.
II. NỘI DUNG
Rà soát toàn bộ văn bản do Sở tham mưu ban hành còn hiệu lực.
III. TỔ CHỨC THỰC HIỆN
Văn phòng chủ trì, phối hợp với Thanh tra Sở và các phòng quản lý.
""".encode()


def at_publication(
    settings: Settings, code: str, path: tuple[str, ...], *, summary: str | None = None
) -> str:
    """A cycle of `code` whose approved draft has gone through `path` to publication."""
    defs = definitions(settings)
    with session_scope(settings.database_url) as session:
        cycle = open_cycle(session, plan_key=SEED_PLAN, line_code=code, opened_by="office")
        submit_version(
            session,
            cycle_id=cycle.id,
            content=(f"Trích yếu: {summary}\n".encode() if summary else b"") + DRAFT,
            filename="du-thao.txt",
            media_type="text/plain",
            submitted_by="office",
            max_bytes=settings.max_document_bytes,
        )
        for stage in (*path, Stage.PUBLICATION):
            advance_stage(session, cycle_id=cycle.id, target=stage, actor="t")
        assert evaluate(session, defs, cycle_id=cycle.id, now=now()).stage == "publication"
        return cycle.id


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def issue(settings: Settings, cycle_id: str) -> Issued:
    """What the flow's publish step does: issue, close, mail — one transaction."""
    defs = definitions(settings)
    moment = now()
    with session_scope(settings.database_url) as session:
        issued = issue_cycle_document(
            session, settings, defs, cycle_id=cycle_id, actor=ACTOR, now=moment
        )
        publish_document(session, cycle_id=cycle_id, actor=ACTOR, now=moment)
        view = evaluate(session, defs, cycle_id=cycle_id, now=moment)
        published(session, settings, defs, view, issued)
        return issued


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def keep_png(pdf: bytes, name: str) -> None:
    """Page 1 as an image in var/test-artefacts/documents, for a person to look at."""
    import pypdfium2 as pdfium

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    pdfium.PdfDocument(pdf)[0].render(scale=110 / 72).to_pil().save(ARTEFACTS / f"{name}.png")


def date_line(day: dt.date) -> str:
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"Bình Dương, ngày {day.day:02d} tháng {month} năm {day.year}"


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    made = set(ensure_signing_keys(settings, definitions(settings)))
    assert made == {"SVHTTDL", "STP", "UBND"}  # each department here, and UBND tỉnh
    return settings


def test_a_published_plan_is_numbered_dated_signed_and_verifiable(
    keyed: Settings, tmp_path: Path
) -> None:
    cycle_id = at_publication(keyed, "1.2", (Stage.REVIEW, Stage.APPROVAL))
    issued = issue(keyed, cycle_id)
    today = definitions(keyed).today(now())

    text = text_of(issued.pdf)
    keep_png(issued.pdf, "published-ke-hoach-1.2")
    assert issued.number_line == "Số: 01/KH-SVHTTDL"
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 01/KH-SVHTTDL",
        date_line(today),
        "KẾ HOẠCH",
        "GIÁM ĐỐC",
        "Nguyễn Khoa Hải",
        "Nơi nhận:",
        "Lưu: VT",
        "Rà soát toàn bộ văn bản do Sở tham mưu ban hành còn hiệu lực.",  # the approved text
    ):
        assert expected in text, expected
    assert "DỰ THẢO" not in text

    ca = keyed.keys_dir("SVHTTDL") / "ca.pem"
    verification = verify_pdf(issued.pdf, trust_roots=[ca])
    assert verification.ok, verification.problems
    assert verification.sha256 == issued.record.sha256

    # pyHanko's own validator accepts the signature against the department's CA.
    reader = PdfFileReader(io.BytesIO(issued.pdf))
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(ca))], allow_fetching=False)
    status = validate_pdf_signature(reader.embedded_signatures[0], context)
    assert status.bottom_line

    # `duyet verify` checks signature, chain and the register; one flipped byte fails it.
    good = tmp_path / issued.record.filename
    good.write_bytes(issued.pdf)
    result = CliRunner().invoke(cli, ["verify", str(good)], env=portal_env(tmp_path))
    assert result.exit_code == 0, result.output
    assert "01/KH-SVHTTDL" in result.output
    flipped = bytearray(issued.pdf)
    middle = len(flipped) // 3
    flipped[middle] ^= 0x01
    bad = tmp_path / "flipped.pdf"
    bad.write_bytes(bytes(flipped))
    result = CliRunner().invoke(cli, ["verify", str(bad)], env=portal_env(tmp_path))
    assert result.exit_code == 1
    assert not verify_pdf(bytes(flipped), trust_roots=[ca]).ok


def test_numbers_follow_each_other_and_a_replay_issues_nothing_new(keyed: Settings) -> None:
    first = issue(keyed, at_publication(keyed, "1.2", (Stage.REVIEW, Stage.APPROVAL)))
    second_cycle = at_publication(keyed, "2.1.a", (Stage.REVIEW, Stage.APPROVAL))
    second = issue(keyed, second_cycle)
    assert (first.record.number, second.record.number) == (1, 2)
    defs = definitions(keyed)
    with session_scope(keyed.database_url) as session:  # the flow's step replayed
        again = issue_cycle_document(
            session, keyed, defs, cycle_id=second_cycle, actor=ACTOR, now=now()
        )
        assert again.record.id == second.record.id and again.pdf == second.pdf
        assert len(list_published(session)) == 2


def test_the_signed_file_goes_to_every_recipient(keyed: Settings) -> None:
    cycle_id = at_publication(keyed, "1.2", (Stage.REVIEW, Stage.APPROVAL))
    issued = issue(keyed, cycle_id)
    with session_scope(keyed.database_url) as session:
        mails = session.scalars(
            select(Mail).where(Mail.cycle_id == cycle_id, Mail.kind == "published")
        ).all()
        assert get_cycle(session, cycle_id=cycle_id).status == "published"
    assert {m.recipient for m in mails} >= {"van-phong", "thanh-tra"}
    for mail in mails:
        assert [a["sha256"] for a in mail.attachments] == [issued.record.sha256]
        assert "Số: 01/KH-SVHTTDL" in mail.text_body
        assert f"http://portal.test/van-ban/{issued.record.id}" in mail.text_body


def test_a_legal_normative_decision_is_issued_by_the_peoples_committee(keyed: Settings) -> None:
    path = ("review.opinions", "review.appraisal", "approval.submission", "approval.issuance")
    issued = issue(keyed, at_publication(keyed, "1.1", path, summary=DECISION))
    year = definitions(keyed).today(now()).year
    assert issued.number_line == f"Số: 01/{year}/QĐ-UBND"
    text = text_of(issued.pdf)
    keep_png(issued.pdf, "published-quyet-dinh-1.1")
    assert "ỦY BAN NHÂN DÂN TỈNH BÌNH DƯƠNG" in text
    assert "TM. ỦY BAN NHÂN DÂN" in text and "CHỦ TỊCH" in text
    assert "QUYẾT ĐỊNH" in text
    assert "Ban hành Quy chế quản lý hoạt động văn hóa" in text  # the draft's own trích yếu
    assert "Trích yếu:" not in text
    flat = " ".join(text.split())
    assert flat.count("ỦY BAN NHÂN DÂN TỈNH BÌNH DƯƠNG") == 2  # the issuer, and who decides
    assert "Trung tâm Công báo" in text  # Nơi nhận: the Official Gazette
    ubnd = keyed.keys_dir("UBND") / "ca.pem"
    assert verify_pdf(issued.pdf, trust_roots=[ubnd]).ok


def test_the_public_register_lists_serves_and_feeds(keyed: Settings, client: httpx.Client) -> None:
    issued = issue(keyed, at_publication(keyed, "1.2", (Stage.REVIEW, Stage.APPROVAL)))
    record = issued.record

    listing = client.get("/van-ban")
    assert listing.status_code == 200
    assert "01/KH-SVHTTDL" in listing.text and record.sha256[:16] in listing.text
    for path in ("/van-ban", f"/van-ban/{record.id}/tai-ve", "/van-ban/feed.atom"):
        head = client.head(path)  # what link checkers and feed readers send first
        assert head.status_code == 200 and head.content == b"", path
    assert client.head(f"/van-ban/{record.id}/tai-ve").headers["content-length"] == str(
        len(issued.pdf)
    )

    detail = client.get(f"/van-ban/{record.id}")
    assert detail.status_code == 200 and record.sha256 in detail.text

    download = client.get(f"/van-ban/{record.id}/tai-ve")
    assert download.status_code == 200
    assert download.content == issued.pdf
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")

    feed = client.get("/van-ban/feed.atom")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom")
    root = ElementTree.fromstring(feed.content)
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    title = entries[0].findtext(f"{ATOM}title") or ""
    assert title.startswith("Kế hoạch số 01/KH-SVHTTDL")
    links = [link.get("href") for link in entries[0].findall(f"{ATOM}link")]
    assert links == [
        f"http://portal.test/van-ban/{record.id}",
        f"http://portal.test/van-ban/{record.id}/tai-ve",
    ]
    assert record.sha256 in (entries[0].findtext(f"{ATOM}summary") or "")


def test_the_register_ignores_the_host_header_and_unknown_ids(
    keyed: Settings, client: httpx.Client
) -> None:
    issue(keyed, at_publication(keyed, "1.2", (Stage.REVIEW, Stage.APPROVAL)))
    feed = client.get("/van-ban/feed.atom", headers={"Host": "evil.example"})
    assert b"evil.example" not in feed.content
    assert client.get("/van-ban/khong-co").status_code == 404
    assert client.get("/van-ban/khong-co/tai-ve").status_code == 404
    assert client.post("/van-ban").status_code == 405
