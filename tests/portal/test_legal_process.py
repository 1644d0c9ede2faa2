"""The legal-normative process on the portal: named stages, the appraisal report attached by
the Department of Justice through its link, and the public-comment period."""

from __future__ import annotations

import datetime as dt
import hashlib
import html

import httpx
from sqlalchemy import select

from definitions.stage_rules import Stage
from duyet.definition_files import definitions
from duyet.engine import evaluate
from duyet.settings import Settings
from records.cycles import advance_stage, open_cycle
from records.documents import document_content, submit_version
from records.engine import session_scope
from records.models import Decision, DocumentVersion, ReviewCycle
from tasks.mail import queue_requests
from tests.portal.factories import (
    SEED_PLAN,
    add_account,
    csrf_in,
    open_at,
    sign_in,
    token_of_mail,
)

DRAFT = "Dự thảo Quyết định ban hành Quy chế quản lý hoạt động văn hóa\n".encode()
REPORT = b"%PDF-1.4\n% Bao cao tham dinh so 12/BC-STP\n%%EOF\n"


def at_stage(settings: Settings, stages: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """A cycle of line 1.1 moved through `stages`, with the last one's requests queued."""
    defs = definitions(settings)
    now = dt.datetime.now(dt.UTC)
    deadline = defs.deadline(defs.today(now), 10)
    with session_scope(settings.database_url) as session:
        cycle = open_cycle(session, plan_key=SEED_PLAN, line_code="1.1", opened_by="office")
        submit_version(
            session,
            cycle_id=cycle.id,
            content=DRAFT,
            filename="du-thao.txt",
            media_type="text/plain",
            submitted_by="van-phong",
            max_bytes=settings.max_document_bytes,
        )
        for stage in stages:
            advance_stage(
                session, cycle_id=cycle.id, target=stage, actor="t", stage_deadline=deadline
            )
        view = evaluate(session, defs, cycle_id=cycle.id, now=now)
        mails = queue_requests(session, settings, defs, view, now=now)
        return cycle.id, {m.recipient: token_of_mail(session, settings, m) for m in mails}


def test_the_department_of_justice_must_attach_its_appraisal_report(
    settings: Settings, client: httpx.Client
) -> None:
    cycle_id, links = at_stage(settings, ("review.opinions", "review.appraisal"))
    assert set(links) == {"so-tu-phap"}  # only the appraising body is asked
    token = links["so-tu-phap"]
    page = client.get(f"/r/{token}")
    assert page.status_code == 200
    assert "Thẩm định của Sở Tư pháp" in page.text
    assert 'name="document"' in page.text and "Báo cáo thẩm định" in page.text

    form = {"csrf": csrf_in(page), "decision": "approve", "comment": "Đủ điều kiện trình."}
    refused = client.post(f"/r/{token}", data=form)
    assert refused.status_code == 400
    assert "Giai đoạn này cần đính kèm Báo cáo thẩm định." in refused.text
    with session_scope(settings.database_url) as session:
        assert session.scalars(select(Decision)).all() == []

    files = {"document": ("bao-cao-tham-dinh.pdf", REPORT, "application/pdf")}
    accepted = client.post(f"/r/{token}", data=form, files=files)
    assert accepted.status_code == 200, accepted.text
    with session_scope(settings.database_url) as session:
        decision = session.scalars(select(Decision)).one()
        assert (decision.stage, decision.verdict) == ("review.appraisal", "approve")
        assert decision.attachment_filename == "bao-cao-tham-dinh.pdf"
        assert decision.attachment_sha256 is not None
        assert document_content(session, sha256=decision.attachment_sha256) == REPORT
        view = evaluate(
            session, definitions(settings), cycle_id=cycle_id, now=dt.datetime.now(dt.UTC)
        )
    assert (view.step, view.target) == ("advance", "approval.submission")


def test_opinions_stay_open_for_public_comment_however_fast_the_answers(
    settings: Settings, client: httpx.Client
) -> None:
    cycle_id, links = at_stage(settings, ("review.opinions",))
    assert "phong-to-chuc-phap-che" in links
    for token in links.values():
        page = client.get(f"/r/{token}")
        response = client.post(
            f"/r/{token}", data={"csrf": csrf_in(page), "decision": "approve", "comment": ""}
        )
        assert response.status_code == 200
    defs = definitions(settings)
    with session_scope(settings.database_url) as session:
        now = dt.datetime.now(dt.UTC)
        waiting = evaluate(session, defs, cycle_id=cycle_id, now=now)
        later = evaluate(session, defs, cycle_id=cycle_id, now=now + dt.timedelta(days=31))
    assert (waiting.step, waiting.missing) == ("wait", [])  # everyone answered; 30 days to run
    assert (later.step, later.target) == ("advance", "review.appraisal")


def test_the_draft_page_offers_a_skeleton_prefilled_from_the_plan_line(
    settings: Settings, client: httpx.Client
) -> None:

    opened = open_at(settings, "1.2", Stage.DRAFT)
    token = opened.links["van-phong"]
    page = client.get(f"/r/{token}")
    assert page.status_code == 200
    text = page.text
    assert "Trích yếu: Ban hành kế hoạch kiểm tra, rà soát, hệ thống hóa VBQPPL" in text
    assert "I. MỤC ĐÍCH, YÊU CẦU" in text and "III. TỔ CHỨC THỰC HIỆN" in text

    preview = client.get(f"/r/{token}/khung-du-thao")
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")
    assert preview.headers["content-disposition"].startswith("attachment;")

    skeleton = text.split('name="text" rows="18">', 1)[1].split("</textarea>", 1)[0]
    unfilled = client.post(
        f"/r/{token}",
        data={"csrf": csrf_in(page), "decision": "submit", "text": html.unescape(skeleton)},
    )
    assert unfilled.status_code == 400 and "nội dung mẫu" in unfilled.text
    filled = html.unescape(skeleton).replace(
        "[Nội dung do đơn vị chủ trì soạn thảo]", "Rà soát toàn bộ văn bản còn hiệu lực."
    )
    sent = client.post(
        f"/r/{token}", data={"csrf": csrf_in(page), "decision": "submit", "text": filled}
    )
    assert sent.status_code == 200, sent.text
    with session_scope(settings.database_url) as session:
        version = submitted = session.scalars(select(DocumentVersion)).one()
        assert (
            document_content(session, sha256=submitted.sha256)
            == filled.replace("\r\n", "\n").strip().encode() + b"\n"
        )
    assert version.round == 1


def test_a_draft_under_public_comment_is_on_the_public_page_until_the_period_ends(
    settings: Settings, client: httpx.Client
) -> None:
    cycle_id, _ = at_stage(settings, ("review.opinions",))
    listing = client.get("/gop-y")
    assert listing.status_code == 200
    assert "1.1." in listing.text and "du-thao.txt" in listing.text
    assert "mailto:vanphong@svhttdl.example" in listing.text
    draft = client.get(f"/gop-y/{cycle_id}/du-thao")
    assert draft.status_code == 200 and draft.content == DRAFT
    assert draft.headers["content-disposition"].startswith("attachment;")

    with session_scope(settings.database_url) as session:  # the 30 days have run
        cycle = session.get(ReviewCycle, cycle_id)
        assert cycle is not None
        cycle.stage_started_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=31)
    assert "1.1." not in client.get("/gop-y").text
    assert client.get(f"/gop-y/{cycle_id}/du-thao").status_code == 404


def test_no_draft_is_public_at_stages_without_a_comment_period(
    settings: Settings, client: httpx.Client
) -> None:
    cycle_id, _ = at_stage(settings, ("review.opinions", "review.appraisal"))
    assert client.get(f"/gop-y/{cycle_id}/du-thao").status_code == 404
    opened = open_at(settings, "2.1.a", Stage.REVIEW)
    assert client.get(f"/gop-y/{opened.cycle_id}/du-thao").status_code == 404


def test_auditors_see_and_download_the_appraisal_report(
    settings: Settings, client: httpx.Client
) -> None:
    _, links = at_stage(settings, ("review.opinions", "review.appraisal"))
    token = links["so-tu-phap"]
    page = client.get(f"/r/{token}")
    files = {"document": ("bao-cao-tham-dinh.pdf", REPORT, "application/pdf")}
    form = {"csrf": csrf_in(page), "decision": "approve", "comment": ""}
    assert client.post(f"/r/{token}", data=form, files=files).status_code == 200
    add_account(settings, "thanhtra", "auditor")
    sign_in(client, "thanhtra")
    history = client.get("/audit/lines/1.1")
    assert history.status_code == 200 and "bao-cao-tham-dinh.pdf" in history.text
    sha = hashlib.sha256(REPORT).hexdigest()
    report = client.get(f"/audit/documents/{sha}")
    assert report.status_code == 200 and report.content == REPORT
