"""The Office's board without Prefect: what it shows, resending a link, refusals.
Starting and cancelling cycles on a real Prefect server: `test_stack.py`, `test_browser.py`."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import func, select

from definitions.stage_rules import Stage
from duyet.definition_files import definitions
from duyet.records_bridge import record_import
from duyet.settings import Settings
from records.engine import session_scope
from records.models import Mail, ReviewCycle
from tests.factories import OTHER_PLAN
from tests.portal.factories import add_account, csrf_in, open_at, sign_in, token_of_mail


@pytest.fixture
def office(settings: Settings, client: httpx.Client) -> httpx.Client:
    add_account(settings, "vanphong", "office")
    assert sign_in(client, "vanphong").status_code == 303
    return client


def test_the_board_lists_every_line_by_section_with_its_cycle_and_charts(
    settings: Settings, office: httpx.Client
) -> None:
    open_at(settings, "2.1.a", Stage.REVIEW)
    board = office.get("/office")
    assert board.status_code == 200
    assert len(re.findall(r'<tr id="line-', board.text)) == 44
    assert board.text.count("<svg") == 3 and "<title>" in board.text
    row = board.text.split('<tr id="line-2.1.a">')[1].split("</tr>")[0]
    assert "Lấy ý kiến, vòng 1" in row
    for unit in (
        "Phòng Quản lý Văn hóa",
        "Phòng Quản lý Thể dục thể thao",
        "Phòng Quản lý Du lịch",
    ):
        assert unit in row
    assert "quá hạn" in board.text  # the 2023 plan's deadlines have passed
    assert "Rút</button>" in row and "Gửi lại</button>" in row


def test_resending_a_link_kills_the_old_one_and_queues_a_new_mail(
    settings: Settings, office: httpx.Client
) -> None:
    opened = open_at(settings, "2.1.a", Stage.REVIEW)
    unit = "phong-quan-ly-the-thao"
    board = office.get("/office")
    form = {"csrf": csrf_in(board), "cycle_id": opened.cycle_id, "unit": unit}
    answer = office.post("/office/resend", data=form)
    assert answer.status_code == 303
    notice = office.get(answer.headers["location"])
    assert "Đã gửi lại đường dẫn cho Phòng Quản lý Thể dục thể thao (dòng 2.1.a)." in notice.text
    gone = office.get(f"/r/{opened.links[unit]}")
    assert gone.status_code == 410 and "đã gửi một đường dẫn mới" in gone.text
    with session_scope(settings.database_url) as session:
        mails = session.scalars(select(Mail).where(Mail.recipient == unit).order_by(Mail.id)).all()
        assert [m.idempotency_key.rsplit("/", 1)[1] for m in mails] == [
            "review_request",
            "review_request:resend-2",
        ]
        new = token_of_mail(session, settings, mails[-1])
    assert office.get(f"/r/{new}").status_code == 200


def test_resending_to_a_unit_that_answered_is_409(settings: Settings, office: httpx.Client) -> None:
    opened = open_at(settings, "2.1.a", Stage.REVIEW)
    unit = "phong-quan-ly-van-hoa"
    token = opened.links[unit]
    office.post(
        f"/r/{token}", data={"csrf": csrf_in(office.get(f"/r/{token}")), "decision": "approve"}
    )
    form = {"csrf": csrf_in(office.get("/office")), "cycle_id": opened.cycle_id, "unit": unit}
    answer = office.post("/office/resend", data=form)
    assert answer.status_code == 409 and "đã trả lời" in answer.text
    unknown = office.post("/office/resend", data=form | {"cycle_id": "không-có"})
    assert unknown.status_code == 404


def test_starting_without_a_prefect_api_is_503_and_opens_nothing(
    settings: Settings, office: httpx.Client
) -> None:
    form = {"csrf": csrf_in(office.get("/office")), "scope": "line", "code": "1.1"}
    answer = office.post("/office/start", data=form)
    assert answer.status_code == 503 and "Prefect" in answer.text
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(ReviewCycle)) == 0


def test_an_unknown_plan_is_404(office: httpx.Client) -> None:
    assert office.get("/office?plan=khong-co").status_code == 404


def test_two_departments_plans_each_on_its_own_board(
    settings: Settings, office: httpx.Client
) -> None:
    record_import(definitions(settings).plan(OTHER_PLAN), settings=settings, actor="t")
    opened = open_at(settings, "2.1.a", Stage.REVIEW, plan_key=OTHER_PLAN)
    board = office.get(f"/office?plan={OTHER_PLAN}")
    assert board.status_code == 200
    assert len(re.findall(r'<tr id="line-', board.text)) == 13
    assert f'<option value="{OTHER_PLAN}" selected>' in board.text  # the plan picker
    row = board.text.split('<tr id="line-2.1.a">')[1].split("</tr>")[0]
    assert "Lấy ý kiến, vòng 1" in row and "Phòng Hành chính tư pháp" in row
    first = office.get("/office")  # the first plan by id; its own 2.1.a has no cycle
    assert len(re.findall(r'<tr id="line-', first.text)) == 44
    assert "Lấy ý kiến" not in first.text.split('<tr id="line-2.1.a">')[1].split("</tr>")[0]
    form = {"csrf": csrf_in(first), "cycle_id": opened.cycle_id, "unit": "van-phong"}
    assert office.post("/office/resend", data=form).status_code == 404  # another plan's cycle
