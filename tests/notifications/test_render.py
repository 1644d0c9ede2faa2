"""Rendering is pure: every kind from its context, Vietnamese, one link, a calendar for requests."""

from __future__ import annotations

import pytest
from icalendar import Calendar
from pydantic import ValidationError

from notifications.context import CONTEXTS, Action, Digest, LineMail
from notifications.mail import MailKind
from notifications.render import TEMPLATES, render
from tests.notifications.factories import ANNEX, BASE_URL, LINE, REPORT, contexts, links_in

WITH_LINK = {
    MailKind.DRAFT_REQUEST,
    MailKind.REVIEW_REQUEST,
    MailKind.APPROVAL_REQUEST,
    MailKind.CHANGES_REQUESTED,
    MailKind.REMINDER,
    MailKind.ESCALATION,  # to a unit head; the board's escalation has none
    MailKind.DIGEST,  # one per listed line
}


def test_every_kind_has_a_context_and_both_templates() -> None:
    assert set(CONTEXTS) == set(MailKind)
    for kind in MailKind:
        assert (TEMPLATES / f"{kind}.html.j2").is_file()
        assert (TEMPLATES / f"{kind}.txt.j2").is_file()


@pytest.mark.parametrize("kind", list(MailKind))
def test_every_kind_renders_in_vietnamese_with_the_code_first(kind: MailKind) -> None:
    context = contexts()[kind]
    mail = render(kind, context)
    # A report is about no line: its number leads the subject instead.
    code = {MailKind.DIGEST: "1.4.b, 2.2.đ", MailKind.PROGRESS_REPORT: "01/BC-SVHTTDL"}.get(
        kind, "1.4.b"
    )
    assert mail.kind is kind
    assert mail.subject.startswith(f"{code} — ")
    assert "\n" not in mail.subject
    for body in (mail.text, mail.html):
        assert "Kính gửi:" in body
        assert "Văn phòng Sở" in body
        assert "Sở Văn hóa, Thể thao và Du lịch tỉnh Bình Dương" in body
    assert mail.html.startswith("<!DOCTYPE html>")
    assert 'name="viewport"' in mail.html
    assert "<script" not in mail.html and "<style" not in mail.html  # inline styles only
    if isinstance(context, LineMail):
        assert LINE.title in mail.text  # text is not escaped…
        assert "&lt;năm 2024&gt; &amp; báo cáo" in mail.html  # …HTML is


@pytest.mark.parametrize("kind", list(MailKind))
def test_exactly_one_link_where_a_link_belongs(kind: MailKind) -> None:
    context = contexts()[kind]
    mail = render(kind, context)
    expected = len(context.items) if isinstance(context, Digest) else int(kind in WITH_LINK)
    assert len(links_in(mail.text)) == expected
    assert mail.html.count("<a ") == expected
    assert len(links_in(mail.html)) == expected
    for item in _actions(context):
        assert mail.text.count(item.url) == 1
        assert mail.html.count(f'href="{item.url}"') == 1


@pytest.mark.parametrize("kind", sorted(WITH_LINK))
def test_requests_carry_their_deadline_as_a_calendar_event(kind: MailKind) -> None:
    context = contexts()[kind]
    mail = render(kind, context)
    [ics] = [a for a in mail.attachments if a.media_type == "text/calendar"]
    assert ics.content is not None
    assert dict(ics.params)["method"] == "PUBLISH"
    calendar = Calendar.from_ical(ics.content)
    assert calendar["METHOD"] == "PUBLISH"
    events = calendar.walk("VEVENT")
    actions = _actions(context)
    assert [e["UID"] for e in events] == [a.calendar_uid for a in actions]
    for event, action in zip(events, actions, strict=True):
        assert event.decoded("DTSTART") == action.deadline  # an all-day date
        assert str(event["SUMMARY"]).split(" — ")[0] in {"1.4.b", "2.2.đ"}
        assert str(event["URL"]) == BASE_URL  # the portal, no token
        assert event.walk("VALARM")
    # The calendar is shared and synced: no link with a token in it.
    assert b"/r/" not in ics.content


def test_notices_carry_no_calendar_and_published_names_its_document() -> None:
    for kind in set(MailKind) - WITH_LINK - {MailKind.PUBLISHED, MailKind.PROGRESS_REPORT}:
        assert render(kind, contexts()[kind]).attachments == ()
    [document] = render(MailKind.PUBLISHED, contexts()[MailKind.PUBLISHED]).attachments
    assert (document.filename, document.sha256, document.content) == (
        "Dự thảo kế hoạch kiểm tra.docx",
        "ab" * 32,
        None,  # the sender loads the stored bytes
    )


def test_the_progress_report_carries_its_signed_pdf_and_annex_by_sha256() -> None:
    context = contexts()[MailKind.PROGRESS_REPORT]
    mail = render(MailKind.PROGRESS_REPORT, context)
    assert mail.subject == "01/BC-SVHTTDL — Báo cáo kết quả thực hiện kế hoạch quý I năm 2024"
    assert [(a.filename, a.media_type, a.sha256, a.content) for a in mail.attachments] == [
        (REPORT.filename, "application/pdf", REPORT.sha256, None),
        (ANNEX.filename, ANNEX.media_type, ANNEX.sha256, None),
    ]
    assert "Số: 01/BC-SVHTTDL" in mail.text and "ngày 05/03/2024" in mail.text
    assert "Kỳ báo cáo: Quý I năm 2024" in mail.text
    assert REPORT.sha256 in mail.text and ANNEX.sha256 in mail.html
    assert "&lt;của Sở&gt; &amp; các đơn vị" in mail.html
    with_page = context.model_copy(update={"public_url": f"{BASE_URL}/van-ban/abc"})
    assert f'<a href="{BASE_URL}/van-ban/abc">' in render(MailKind.PROGRESS_REPORT, with_page).html


def test_dates_are_dd_mm_yyyy_and_round_and_stage_are_named() -> None:
    mail = render(MailKind.REVIEW_REQUEST, contexts()[MailKind.REVIEW_REQUEST])
    assert "hạn 15/03/2024" in mail.subject
    assert "Giai đoạn: Lấy ý kiến, vòng 2" in mail.text
    assert "Mở trang góp ý" in mail.html
    assert "ab" * 32 in mail.text


def test_changes_requested_compiles_every_comment() -> None:
    mail = render(MailKind.CHANGES_REQUESTED, contexts()[MailKind.CHANGES_REQUESTED])
    assert "Tổng hợp ý kiến (2 ý kiến)" in mail.text
    assert "Đề nghị bổ sung căn cứ pháp lý." in mail.text
    assert "Sửa lỗi chính tả ở mục 2." in mail.text
    assert "Phòng Tổ chức - Pháp chế" in mail.html
    assert "đồng ý, có góp ý" in mail.html


def test_rendering_is_pure_and_accepts_plain_data() -> None:
    context = contexts()[MailKind.REMINDER]
    first = render(MailKind.REMINDER, context)
    assert render("reminder", context.model_dump()) == first


def test_contexts_refuse_unknown_and_missing_fields() -> None:
    data = contexts()[MailKind.REVIEW_REQUEST].model_dump()
    with pytest.raises(ValidationError):
        render(MailKind.REVIEW_REQUEST, data | {"surprise": 1})
    del data["document"]
    with pytest.raises(ValidationError):
        render(MailKind.REVIEW_REQUEST, data)
    with pytest.raises(TypeError):
        render(MailKind.REVIEW_REQUEST, contexts()[MailKind.REMINDER])


def test_escalation_to_the_board_has_no_link() -> None:
    head = contexts()[MailKind.ESCALATION]
    board = head.model_copy(update={"to": "board", "action": None})
    mail = render(MailKind.ESCALATION, board)
    assert links_in(mail.text) == [] and "<a " not in mail.html
    assert "kính báo cáo Ban Giám đốc" in mail.text
    assert mail.attachments == ()


def test_last_day_reminder_says_today() -> None:
    context = contexts()[MailKind.REMINDER].model_copy(update={"days_left": 0})
    assert "hôm nay, ngày 15/03/2024, là hạn gửi ý kiến góp ý" in render("reminder", context).text


def _actions(context: object) -> list[Action]:
    if isinstance(context, Digest):
        return [item.action for item in context.items]
    action = getattr(context, "action", None)
    return [action] if isinstance(action, Action) else []


@pytest.mark.parametrize(
    ("kind", "stage", "says"),
    [
        (MailKind.REVIEW_REQUEST, "review.opinions", "Mở trang góp ý"),
        (MailKind.REVIEW_REQUEST, "review.appraisal", "gửi kết quả thẩm định"),
        (MailKind.APPROVAL_REQUEST, "approval.issuance", "UBND tỉnh ban hành"),
        (MailKind.REMINDER, "approval.submission", "ký Tờ trình UBND tỉnh"),
    ],
)
def test_named_stages_of_a_process_render_with_their_own_words(
    kind: MailKind, stage: str, says: str
) -> None:
    from tests.notifications.factories import action

    context = contexts()[kind].model_copy(update={"action": action(stage=stage)})
    mail = render(kind, context)
    assert says in mail.text and says in (mail.html or "")


def test_a_stage_key_must_name_a_kind() -> None:
    from tests.notifications.factories import action

    with pytest.raises(ValidationError):
        action(stage="appraisal")
