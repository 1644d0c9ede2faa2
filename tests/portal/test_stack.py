"""The portal on the whole stack (Prefect server, worker, SMTP): a cycle driven only through the
portal's pages, where no GET or HEAD of any link of any mail ever changes anything."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from prefect.client.schemas.objects import StateType
from sqlalchemy import select

from duyet.settings import Settings
from portal.app import create_app
from records.cycle_reads import cycles_of_line
from records.engine import session_scope
from records.models import ReviewCycle
from tests.flows.helpers import deliver, stage_of, text_of
from tests.portal.asgi import app_client
from tests.portal.conftest import with_prefect
from tests.portal.factories import (
    add_account,
    csrf_in,
    free_line,
    opened_events,
    sign_in,
    snapshot,
)
from tests.stack import SEED_PLAN, Stack, wait_for

pytestmark = pytest.mark.slow
LINK = re.compile(r"http://portal\.test/r/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


@pytest.fixture(scope="module")
def live_app(stack: Stack) -> FastAPI:
    return with_prefect(create_app(stack.settings), stack.server.api_url)


@pytest.fixture
def office(
    stack: Stack, live_app: FastAPI, request: pytest.FixtureRequest
) -> Iterator[httpx.Client]:
    name = f"vp-{request.node.name[-20:]}".lower()
    add_account(stack.settings, name, "office")
    with app_client(live_app) as client:
        assert sign_in(client, name).status_code == 303
        yield client


def tokens_in_mail(stack: Stack, cycle_id: str) -> list[str]:
    """Every link of every mail received about the cycle so far (text and HTML bodies)."""
    deliver(stack.settings)
    found: list[str] = []
    for message in stack.mail.of_cycle(cycle_id):
        bodies = [text_of(message)]
        html = message.get_body(preferencelist=("html",))
        if html is not None:
            bodies.append(str(html.get_content()))
        for body in bodies:
            found.extend(t for t in LINK.findall(body) if t not in found)
    return found


def reads_change_nothing(
    client: httpx.Client, settings: Settings, cycle_id: str, tokens: list[str]
) -> dict[str, int]:
    """GET and HEAD every link (and its document): only `link.opened` may be written."""
    before, opened = snapshot(settings, cycle_id), opened_events(settings)
    statuses: dict[str, int] = {}
    for token in tokens:
        head = client.head(f"/r/{token}")
        get = client.get(f"/r/{token}")
        assert head.status_code == get.status_code in (200, 409, 410), get.text[:300]
        client.get(f"/r/{token}/document")
        statuses[token] = get.status_code
    assert snapshot(settings, cycle_id) == before
    assert opened_events(settings) == opened + len(tokens)  # one per GET, none per HEAD
    return statuses


def approve(client: httpx.Client, token: str, comment: str = "Thống nhất.") -> httpx.Response:
    csrf = csrf_in(client.get(f"/r/{token}"))
    answer = client.post(
        f"/r/{token}", data={"csrf": csrf, "decision": "approve", "comment": comment}
    )
    assert answer.status_code == 200, answer.text
    return answer


def at_rest(stack: Stack, cycle: ReviewCycle, stage: str, round: int = 1) -> None:
    wait_for(
        lambda: stage_of(stack.settings, cycle.id)[:2] == (stage, round),
        timeout=90,
        what=f"{cycle.line_code} at {stage}",
    )
    assert cycle.flow_run_id is not None
    stack.wait_state(cycle.flow_run_id, StateType.PAUSED)


def open_cycle_of(stack: Stack, code: str) -> ReviewCycle:
    def found() -> ReviewCycle | None:
        with session_scope(stack.settings.database_url) as session:
            cycles = cycles_of_line(session, plan_key=SEED_PLAN, line_code=code)
            return cycles[-1] if cycles and cycles[-1].flow_run_id else None

    return wait_for(found, timeout=30, what=f"a cycle of {code} with its run")


def test_healthz_is_200_when_everything_answers(live_app: FastAPI) -> None:
    with app_client(live_app) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "prefect": "ok"}


def test_a_full_cycle_through_the_portal_where_reads_change_nothing(
    stack: Stack, office: httpx.Client
) -> None:
    code = "1.5"  # Văn phòng leads; the three management departments review
    asyncio.run(free_line(stack.settings, code))
    draft = {"draft": ("du-thao-1.5.txt", "Dự thảo kế hoạch 1.5\n".encode(), "text/plain")}
    form = {"csrf": csrf_in(office.get("/office")), "scope": "line", "code": code}
    started = office.post("/office/start", data=form, files=draft)
    assert started.status_code == 303
    assert "Đã mở 1 chu trình: 1.5." in office.get(started.headers["location"]).text
    cycle = open_cycle_of(stack, code)
    at_rest(stack, cycle, "review")
    reviews = tokens_in_mail(stack, cycle.id)
    assert len(reviews) == 3
    assert set(reads_change_nothing(office, stack.settings, cycle.id, reviews).values()) == {200}
    for token in reviews:
        approve(office, token)
    at_rest(stack, cycle, "approval")
    every = tokens_in_mail(stack, cycle.id)
    board = [t for t in every if t not in reviews]
    assert len(board) == 1
    statuses = reads_change_nothing(office, stack.settings, cycle.id, every)
    assert [statuses[t] for t in reviews] == [409, 409, 409] and statuses[board[0]] == 200
    approve(office, board[0], "Đồng ý ban hành.")
    assert cycle.flow_run_id is not None
    stack.wait_state(cycle.flow_run_id, StateType.COMPLETED)
    assert stage_of(stack.settings, cycle.id) == ("closed", 1, "published")
    final = tokens_in_mail(stack, cycle.id)
    assert set(reads_change_nothing(office, stack.settings, cycle.id, final).values()) == {409}
    row = office.get("/office").text.split(f'<tr id="line-{code}">')[1].split("</tr>")[0]
    assert "Đã ban hành" in row


def test_cancelling_from_the_board_closes_the_cycle_and_its_links(
    stack: Stack, office: httpx.Client
) -> None:
    code = "2.2.b"
    asyncio.run(free_line(stack.settings, code))
    files = {"draft": ("du-thao.txt", b"Du thao 2.2.b", "text/plain")}
    form = {"csrf": csrf_in(office.get("/office")), "scope": "line", "code": code}
    assert office.post("/office/start", data=form, files=files).status_code == 303
    cycle = open_cycle_of(stack, code)
    at_rest(stack, cycle, "review")
    (token, *_) = tokens_in_mail(stack, cycle.id)
    form = {"csrf": form["csrf"], "cycle_id": cycle.id, "reason": "Gộp vào dòng 2.2.a"}
    answer = office.post("/office/cancel", data=form)
    assert answer.status_code == 303
    assert "Đã rút chu trình dòng 2.2.b." in office.get(answer.headers["location"]).text
    assert cycle.flow_run_id is not None
    stack.wait_state(cycle.flow_run_id, StateType.CANCELLED)
    with session_scope(stack.settings.database_url) as session:
        status = session.scalars(select(ReviewCycle.status).where(ReviewCycle.id == cycle.id)).one()
    assert status == "cancelled"
    gone = office.get(f"/r/{token}")
    assert gone.status_code == 410 and "Chu trình đã được rút" in gone.text
