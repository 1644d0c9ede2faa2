"""Reviewers' link pages over HTTP: every bad token, GET/HEAD read only, deciding, receipts."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlalchemy import select, text, update

from definitions.stage_rules import Stage
from duyet.settings import Settings
from records.cycles import advance_stage
from records.engine import session_scope
from records.models import Decision, DocumentVersion, LinkToken
from records.tokens import hash_token, revoke_token
from tests.portal.factories import csrf_in, open_at, opened_events, snapshot

LINE = "2.1.a"  # Văn phòng leads; three management departments review


def post(client: httpx.Client, token: str, **form: str) -> httpx.Response:
    page = client.get(f"/r/{token}")
    data = {"csrf": csrf_in(page)} | form
    return client.post(f"/r/{token}", data=data)


def set_link(settings: Settings, token: str, **values: object) -> None:
    with session_scope(settings.database_url) as session:
        session.execute(
            update(LinkToken).where(LinkToken.token_hash == hash_token(token)).values(**values)
        )


def test_a_valid_link_shows_the_line_the_document_its_hash_and_the_form(
    settings: Settings, client: httpx.Client
) -> None:
    opened = open_at(settings, LINE, Stage.REVIEW, versions=(b"Mot\nHai\n", b"Mot\nHai sua\n"))
    page = client.get(f"/r/{opened.first}")
    assert page.status_code == 200
    with session_scope(settings.database_url) as session:
        sha = session.scalars(
            select(DocumentVersion.sha256).where(DocumentVersion.round == 2)
        ).one()
    body = page.text
    assert "2.1.a" in body and "Lấy ý kiến</strong>, vòng 2" in body and sha in body
    assert '<form method="post"' in body and 'name="csrf"' in body and 'name="comment"' in body
    assert 'name="decision" value="approve"' in body
    assert 'name="decision" value="request_changes"' in body
    assert "<del>Hai</del>" in body and "<ins>Hai sua</ins>" in body  # what changed since round 1
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "script-src" not in page.headers["content-security-policy"]  # no script at all


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="tampered-mac"),
        pytest.param(lambda t: ("A" if t[0] != "A" else "B") + t[1:], id="tampered-random"),
        pytest.param(lambda t: t[:-4], id="truncated"),
        pytest.param(lambda t: t.split(".")[0], id="no-mac"),
        pytest.param(lambda t: t + "x", id="padded"),
        pytest.param(lambda t: "x" * 55, id="garbage"),
    ],
)
def test_unknown_or_tampered_tokens_are_404_and_record_nothing(
    settings: Settings, client: httpx.Client, mangle: object
) -> None:
    opened = open_at(settings, LINE, Stage.REVIEW)
    before, opened_before = snapshot(settings), opened_events(settings)
    token = mangle(opened.first)  # type: ignore[operator]
    for method in ("GET", "HEAD", "POST"):
        answer = client.request(
            method, f"/r/{token}", data={"decision": "approve"} if method == "POST" else None
        )
        assert answer.status_code == 404, (method, answer.text[:300])
    assert "Đường dẫn không hợp lệ" in client.get(f"/r/{token}").text
    assert snapshot(settings) == before and opened_events(settings) == opened_before


def test_a_forged_binding_is_404(settings: Settings, client: httpx.Client) -> None:
    """The token is on record but its row was moved to another unit: the MAC no longer fits."""
    opened = open_at(settings, LINE, Stage.REVIEW)
    set_link(settings, opened.first, recipient_unit="thanh-tra")
    assert client.get(f"/r/{opened.first}").status_code == 404
    answer = client.post(f"/r/{opened.first}", data={"decision": "approve", "csrf": "x"})
    assert answer.status_code == 404


def test_an_expired_link_is_410_and_says_ask_the_office(
    settings: Settings, client: httpx.Client
) -> None:
    opened = open_at(settings, LINE, Stage.REVIEW)
    page = client.get(f"/r/{opened.first}")
    set_link(settings, opened.first, expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    assert client.get(f"/r/{opened.first}").status_code == 410
    assert "Văn phòng cấp đường dẫn mới" in client.get(f"/r/{opened.first}").text
    assert "vanphong@svhttdl.example" in client.get(f"/r/{opened.first}").text
    answer = client.post(f"/r/{opened.first}", data={"csrf": csrf_in(page), "decision": "approve"})
    assert answer.status_code == 410


def test_a_revoked_link_is_410(settings: Settings, client: httpx.Client) -> None:
    opened = open_at(settings, LINE, Stage.REVIEW)
    with session_scope(settings.database_url) as session:
        link_id = session.scalars(
            select(LinkToken.id).where(LinkToken.token_hash == hash_token(opened.first))
        ).one()
        revoke_token(session, link_id=link_id, actor="office", reason="thử")
    page = client.get(f"/r/{opened.first}")
    assert page.status_code == 410 and "Đường dẫn đã bị thu hồi" in page.text
    assert "đã gửi một đường dẫn mới" in page.text


def test_approve_records_the_decision_and_answers_with_a_receipt(
    settings: Settings, client: httpx.Client
) -> None:
    opened = open_at(settings, LINE, Stage.REVIEW)
    answer = post(
        client, opened.first, decision="approve", comment="Thống nhất nội dung.", person="Lê Hoa"
    )
    assert answer.status_code == 200, answer.text
    with session_scope(settings.database_url) as session:
        decision = session.scalars(select(Decision)).one()
        sha = session.scalars(select(DocumentVersion.sha256)).one()
    assert (decision.verdict, decision.comment, decision.reviewer_person) == (
        "approve",
        "Thống nhất nội dung.",
        "Lê Hoa",
    )
    assert decision.client_ip == "10.1.2.3"
    assert (decision.user_agent or "").startswith("python-httpx/")
    year = decision.decided_at.year
    assert f"BN-{year}-{decision.id:06d}" in answer.text and sha in answer.text
    assert "Đã ghi nhận" in answer.text and "UTC+0700" in answer.text  # Asia/Ho_Chi_Minh


def test_a_used_link_is_409_and_shows_the_earlier_decision(
    settings: Settings, client: httpx.Client
) -> None:
    opened = open_at(settings, LINE, Stage.REVIEW)
    csrf = csrf_in(client.get(f"/r/{opened.first}"))
    form = {"csrf": csrf, "decision": "request_changes", "comment": "Bổ sung căn cứ."}
    assert client.post(f"/r/{opened.first}", data=form).status_code == 200
    with session_scope(settings.database_url) as session:
        assert session.scalars(select(Decision.verdict)).one() == "changes"
    again = client.get(f"/r/{opened.first}")
    assert again.status_code == 409
    assert "Bổ sung căn cứ." in again.text and "BN-" in again.text
    assert "Đồng ý, có góp ý" in again.text
    replay = client.post(f"/r/{opened.first}", data=form | {"decision": "approve"})
    assert replay.status_code == 409 and "Bổ sung căn cứ." in replay.text
    with session_scope(settings.database_url) as session:
        assert len(session.scalars(select(Decision)).all()) == 1


def test_a_stage_already_closed_is_409(settings: Settings, client: httpx.Client) -> None:
    opened = open_at(settings, LINE, Stage.REVIEW)
    page = client.get(f"/r/{opened.first}")
    with session_scope(settings.database_url) as session:
        advance_stage(session, cycle_id=opened.cycle_id, target=Stage.APPROVAL, actor="office")
    closed = client.get(f"/r/{opened.first}")
    assert closed.status_code == 409 and "Giai đoạn đã kết thúc" in closed.text
    late = client.post(f"/r/{opened.first}", data={"csrf": csrf_in(page), "decision": "approve"})
    assert late.status_code == 409
    with session_scope(settings.database_url) as session:
        assert session.scalars(select(Decision)).all() == []


def test_csrf_missing_or_wrong_is_403_and_decides_nothing(
    settings: Settings, client: httpx.Client
) -> None:
    opened = open_at(settings, LINE, Stage.REVIEW)
    other = open_at(settings, "1.2", Stage.REVIEW)
    wrong_link = csrf_in(client.get(f"/r/{other.first}"))  # a real token, of another link
    before = snapshot(settings)
    for form in ({}, {"csrf": ""}, {"csrf": "forged"}, {"csrf": wrong_link}):
        answer = client.post(f"/r/{opened.first}", data=form | {"decision": "approve"})
        assert answer.status_code == 403, form
        assert "Phiên làm việc không hợp lệ" in answer.text
    assert snapshot(settings) == before


def test_a_decision_the_stage_does_not_offer_is_400(
    settings: Settings, client: httpx.Client
) -> None:
    review = open_at(settings, LINE, Stage.REVIEW)
    for decision in ("reject", "submit", "", "anything"):
        assert post(client, review.first, decision=decision).status_code == 400, decision
    approval = open_at(settings, "1.2", Stage.APPROVAL)
    assert post(client, approval.first, decision="request_changes").status_code == 400
    answer = post(client, approval.first, decision="reject", comment="Chưa phù hợp.")
    assert answer.status_code == 200 and "Không đồng ý" in answer.text
    with session_scope(settings.database_url) as session:
        assert session.scalars(select(Decision.verdict)).one() == "reject"


def test_the_draft_link_takes_a_new_version_typed_or_uploaded(
    settings: Settings, client: httpx.Client
) -> None:
    typed = open_at(settings, LINE, Stage.DRAFT)
    page = client.get(f"/r/{typed.first}")
    assert page.status_code == 200 and 'name="decision" value="submit"' in page.text
    assert post(client, typed.first, decision="submit").status_code == 400  # nothing sent
    answer = post(client, typed.first, decision="submit", text="Dự thảo kế hoạch\r\nĐiều 1.")
    assert answer.status_code == 200 and "PB-" in answer.text
    uploaded = open_at(settings, "1.2", Stage.DRAFT)
    form = client.get(f"/r/{uploaded.first}")
    files = {"document": ("ke-hoach.txt", "Nội dung dự thảo".encode(), "text/plain")}
    sent = client.post(
        f"/r/{uploaded.first}", data={"csrf": csrf_in(form), "decision": "submit"}, files=files
    )
    assert sent.status_code == 200, sent.text
    with session_scope(settings.database_url) as session:
        versions = session.scalars(select(DocumentVersion).order_by(DocumentVersion.id)).all()
    assert [(v.filename, v.media_type) for v in versions] == [
        ("du-thao-vong-1.txt", "text/plain"),
        ("ke-hoach.txt", "text/plain"),
    ]
    assert client.get(f"/r/{uploaded.first}").status_code == 409  # used: shows the version
    refused = open_at(settings, "1.3", Stage.DRAFT)
    form = client.get(f"/r/{refused.first}")
    exe = {"document": ("x.exe", b"MZ\x90\x00", "application/x-msdownload")}
    data = {"csrf": csrf_in(form), "decision": "submit"}
    assert client.post(f"/r/{refused.first}", data=data, files=exe).status_code == 415


def test_get_and_head_record_nothing_but_the_opening(
    settings: Settings, client: httpx.Client
) -> None:
    opened = open_at(settings, LINE, Stage.REVIEW)
    before = snapshot(settings)
    for token in opened.links.values():
        assert client.head(f"/r/{token}").status_code == 200
    assert opened_events(settings) == 0  # HEAD does not even log an opening
    for token in opened.links.values():
        assert client.get(f"/r/{token}").status_code == 200
        assert client.get(f"/r/{token}/document").status_code == 200
    assert snapshot(settings) == before
    assert opened_events(settings) == len(opened.links)


def test_the_original_document_downloads_with_its_name(
    settings: Settings, client: httpx.Client
) -> None:
    opened = open_at(settings, LINE, Stage.REVIEW, versions=("Văn bản".encode(),))
    download = client.get(f"/r/{opened.first}/document")
    assert download.status_code == 200 and download.content == "Văn bản".encode()
    assert download.headers["content-disposition"].startswith('attachment; filename="du-thao.txt"')
    assert client.get(f"/r/{opened.first[:-2]}/document").status_code == 404


def test_an_unexpected_error_is_a_plain_500_page(settings: Settings) -> None:
    from portal.app import create_app
    from tests.portal.asgi import app_client

    app = create_app(settings)
    opened = open_at(settings, LINE, Stage.REVIEW)
    with session_scope(settings.database_url) as session:
        session.execute(text("DROP TABLE link_delegations"))  # sabotage: the 410 page needs it
    set_link(settings, opened.first, revoked_at=dt.datetime.now(dt.UTC))
    with app_client(app, raise_app_exceptions=False) as client:
        page = client.get(f"/r/{opened.first}")
    assert page.status_code == 500
    assert "Hệ thống gặp sự cố" in page.text and "Traceback" not in page.text
    assert "link_delegations" not in page.text
