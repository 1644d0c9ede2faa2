"""A plan line's review cycle on a real Prefect server with a process worker, real mail."""

from __future__ import annotations

import asyncio
import json
from email.message import EmailMessage

import pytest
from prefect.client.schemas.objects import StateType
from sqlalchemy import select

from definitions.stage_rules import Verdict
from flows.control import Draft, Nudge, resume_if_decided, start_cycle
from records.audit import events as audit_events
from records.documents import submit_version
from records.engine import session_scope
from records.errors import VersionUnchanged
from records.models import Mail
from tests.flows.helpers import answer, deliver, send_version, stage_of
from tests.stack import Stack, wait_for

pytestmark = pytest.mark.slow

A, C, R = Verdict.APPROVE, Verdict.CHANGES, Verdict.REJECT


def open_line(stack: Stack, code: str, draft: bytes | None = b"Du thao vong 1") -> tuple[str, str]:
    attached = Draft(draft, "du-thao.txt", "text/plain") if draft is not None else None
    return asyncio.run(
        start_cycle(
            stack.settings, plan_id=stack.plan.id, code=code, actor="office", draft=attached
        )
    )


def suspended_at(stack: Stack, cycle_id: str, run_id: str, stage: str, round: int) -> None:
    wait_for(
        lambda: stage_of(stack.settings, cycle_id)[:2] == (stage, round),
        timeout=90,
        what=f"{cycle_id} at {stage} r{round}",
    )
    stack.wait_state(run_id, StateType.PAUSED)


def mails(stack: Stack, cycle_id: str, kind: str | None = None) -> list[EmailMessage]:
    """Deliver what is queued, then the mail of one cycle (of one kind) that arrived."""
    deliver(stack.settings)
    return stack.mail.of_cycle(cycle_id, kind)


def test_a_full_cycle_reaches_publication(stack: Stack) -> None:
    code = "2.1.a"  # Văn phòng leads; the three management departments review
    cycle_id, run_id = open_line(stack, code)
    suspended_at(stack, cycle_id, run_id, "review", 1)
    deliver(stack.settings)
    requests = stack.mail.of_cycle(cycle_id, "review_request")
    assert len(requests) == 3
    assert {m["To"].addresses[0].addr_spec for m in requests} == {
        "qlvanhoa@svhttdl.example", "qlthethao@svhttdl.example", "qldulich@svhttdl.example"
    }  # fmt: skip
    nudges = [answer(stack.settings, m, A, "Đồng ý") for m in requests]
    assert nudges[:2] == [Nudge.UNDECIDED, Nudge.UNDECIDED] and nudges[2] == Nudge.RESUMED
    suspended_at(stack, cycle_id, run_id, "approval", 1)
    deliver(stack.settings)
    approvals = [m for m in stack.mail.of_cycle(cycle_id) if "bangiamdoc@" in str(m["To"])]
    assert len(approvals) == 1
    assert answer(stack.settings, approvals[0], A, "Đồng ý ban hành") == Nudge.RESUMED
    stack.wait_state(run_id, StateType.COMPLETED)
    assert stage_of(stack.settings, cycle_id) == ("closed", 1, "published")
    deliver(stack.settings)
    ids = [m["Message-ID"] for m in stack.mail.of_cycle(cycle_id)]
    assert len(ids) == len(set(ids))  # every mail arrived once
    states = stack.states(run_id)
    assert states[:1] == ["SCHEDULED"] and states[-1] == "COMPLETED"
    assert states.count("PAUSED") == 2 and "RUNNING" in states


def open_warm(stack: Stack, code: str, warm_seconds: int) -> tuple[str, str]:
    """As `open_line`, the run waiting warm for `warm_seconds` (`DUYET_WARM_WAIT_SECONDS`, set
    for this run alone through its job variables)."""
    draft = Draft(b"Du thao vong 1", "du-thao.txt", "text/plain")
    env = {"DUYET_WARM_WAIT_SECONDS": str(warm_seconds)}
    return asyncio.run(
        start_cycle(
            stack.settings, plan_id=stack.plan.id, code=code, actor="office", draft=draft, env=env
        )
    )


def test_answers_that_come_at_once_move_the_cycle_on_without_a_suspension(stack: Stack) -> None:
    """A run waiting warm reads the answers from the records and goes on in the same process."""
    cycle_id, run_id = open_warm(stack, "2.1.a", 60)
    requests = wait_for(
        lambda: len(found := mails(stack, cycle_id, "review_request")) == 3 and found,
        timeout=90,
        what="the review requests",
    )
    # Answered while the run waits warm: no resume is possible (nor needed) for any of them.
    assert [answer(stack.settings, m, A, "Đồng ý") for m in requests][2] == Nudge.NOT_PAUSED
    approval = wait_for(
        lambda: [m for m in mails(stack, cycle_id) if "bangiamdoc@" in str(m["To"])],
        timeout=90,
        what="the approval request",
    )
    assert answer(stack.settings, approval[0], A, "Đồng ý ban hành") == Nudge.NOT_PAUSED
    stack.wait_state(run_id, StateType.COMPLETED)
    assert stage_of(stack.settings, cycle_id) == ("closed", 1, "published")
    states = stack.states(run_id)
    assert "PAUSED" not in states and states.count("RUNNING") == 1  # one process, start to end


def test_a_warm_wait_nobody_answers_ends_in_a_suspension_and_a_resume(stack: Stack) -> None:
    cycle_id, run_id = open_warm(stack, "2.1.a", 1)
    suspended_at(stack, cycle_id, run_id, "review", 1)
    nudges = [
        answer(stack.settings, m, A, "Đồng ý") for m in mails(stack, cycle_id, "review_request")
    ]
    assert nudges == [Nudge.UNDECIDED, Nudge.UNDECIDED, Nudge.RESUMED]
    suspended_at(stack, cycle_id, run_id, "approval", 1)  # after its warm wait there too
    approval = [m for m in mails(stack, cycle_id) if "bangiamdoc@" in str(m["To"])]
    assert answer(stack.settings, approval[0], A, "Đồng ý ban hành") == Nudge.RESUMED
    stack.wait_state(run_id, StateType.COMPLETED)
    assert stack.states(run_id).count("PAUSED") == 2


def test_changes_requested_then_a_new_version_then_approval(stack: Stack) -> None:
    code = "1.2"  # Văn phòng leads; Thanh tra and the three management departments review
    cycle_id, run_id = open_line(stack, code)
    suspended_at(stack, cycle_id, run_id, "review", 1)
    requests = mails(stack, cycle_id, "review_request")
    assert len(requests) == 4
    assert answer(stack.settings, requests[0], A, "Đồng ý") == Nudge.UNDECIDED
    assert answer(stack.settings, requests[1], C, "Bổ sung căn cứ pháp lý") == Nudge.RESUMED
    suspended_at(stack, cycle_id, run_id, "draft", 2)
    deliver(stack.settings)
    back = [m for m in stack.mail.of_cycle(cycle_id) if "vanphong@" in str(m["To"])]
    assert len(back) == 1
    assert "Bổ sung căn cứ pháp lý" in back[0].get_body(preferencelist=("plain",)).get_content()
    with pytest.raises(VersionUnchanged):  # the same text again is refused
        send_version(stack.settings, back[0], b"Du thao vong 1")
    assert send_version(stack.settings, back[0], b"Du thao vong 2, da bo sung") == Nudge.RESUMED
    suspended_at(stack, cycle_id, run_id, "review", 2)
    deliver(stack.settings)
    round_two = [m for m in stack.mail.of_cycle(cycle_id) if "vòng 2" in str(m["Subject"])]
    reviews = [m for m in round_two if "góp ý" in str(m["Subject"]).lower()]
    assert len(reviews) == 4
    for message in reviews:
        answer(stack.settings, message, A)
    suspended_at(stack, cycle_id, run_id, "approval", 2)
    deliver(stack.settings)
    board = [m for m in stack.mail.of_cycle(cycle_id) if "bangiamdoc@" in str(m["To"])]
    assert answer(stack.settings, board[-1], A) == Nudge.RESUMED
    stack.wait_state(run_id, StateType.COMPLETED)
    assert stage_of(stack.settings, cycle_id) == ("closed", 2, "published")
    assert stack.run(run_id).name == f"{code}@{stack.plan.id} · vòng 2"


def test_rejected_at_approval_goes_back_to_draft(stack: Stack) -> None:
    code = "2.2.a"  # the only partner is the public: nobody reviews, the board approves
    cycle_id, run_id = open_line(stack, code)
    suspended_at(stack, cycle_id, run_id, "approval", 1)
    board = [m for m in mails(stack, cycle_id) if "bangiamdoc@" in str(m["To"])]
    assert answer(stack.settings, board[0], R, "Chưa phù hợp") == Nudge.RESUMED
    suspended_at(stack, cycle_id, run_id, "draft", 2)
    lead = [m for m in mails(stack, cycle_id) if "vanphong@" in str(m["To"])]
    assert send_version(stack.settings, lead[-1], b"Ban sua sau khi bi tra lai") == Nudge.RESUMED
    suspended_at(stack, cycle_id, run_id, "approval", 2)


def test_quorum_of_two(stack: Stack) -> None:
    code = "2.1.b"  # four reviewers, the line's process needs two approvals
    cycle_id, run_id = open_line(stack, code)
    suspended_at(stack, cycle_id, run_id, "review", 1)
    requests = mails(stack, cycle_id, "review_request")
    assert len(requests) == 4
    assert answer(stack.settings, requests[0], A) == Nudge.UNDECIDED
    assert answer(stack.settings, requests[1], A) == Nudge.RESUMED
    suspended_at(stack, cycle_id, run_id, "approval", 1)


def test_first_response_decides(stack: Stack) -> None:
    code = "6.3"
    cycle_id, run_id = open_line(stack, code)
    suspended_at(stack, cycle_id, run_id, "review", 1)
    requests = mails(stack, cycle_id, "review_request")
    assert len(requests) == 5
    assert answer(stack.settings, requests[3], A) == Nudge.RESUMED
    suspended_at(stack, cycle_id, run_id, "approval", 1)


def test_a_version_attached_before_the_run_starts_is_seen_without_a_resume(stack: Stack) -> None:
    code = "4.3.b"
    cycle_id, run_id = open_line(stack, code, draft=None)
    with session_scope(stack.settings.database_url) as session:  # the Office attaches it now
        submit_version(
            session,
            cycle_id=cycle_id,
            content=b"Bao cao dao tao",
            filename="bao-cao.txt",
            media_type="text/plain",
            submitted_by="office",
            max_bytes=stack.settings.max_document_bytes,
        )
    assert asyncio.run(resume_if_decided(stack.settings, cycle_id)) == Nudge.NOT_PAUSED
    suspended_at(stack, cycle_id, run_id, "review", 1)
    assert not mails(stack, cycle_id, "draft_request")


def test_replays_do_no_side_effect_twice(stack: Stack) -> None:
    code = "5.3"  # Phòng Kế hoạch - Tài chính leads; five affiliated units review
    cycle_id, run_id = open_line(stack, code)
    suspended_at(stack, cycle_id, run_id, "review", 1)
    for message in mails(stack, cycle_id, "review_request"):
        answer(stack.settings, message, A)
    suspended_at(stack, cycle_id, run_id, "approval", 1)
    board = [m for m in mails(stack, cycle_id) if "bangiamdoc@" in str(m["To"])]
    answer(stack.settings, board[0], A)
    stack.wait_state(run_id, StateType.COMPLETED)
    deliver(stack.settings)
    with session_scope(stack.settings.database_url) as session:
        events = [
            e.action
            for e in audit_events(session)
            if json.loads(e.payload).get("cycle_id") == cycle_id
        ]
        queued = session.scalars(select(Mail).where(Mail.cycle_id == cycle_id)).all()
    assert events.count("stage.advanced") == 3  # draft→review→approval→publication
    assert events.count("document.published") == 1
    assert events.count("link.issued") == 5 + 1
    published = stack.mail.of_cycle(cycle_id, "published")
    assert events.count("mail.queued") == len(queued) == 5 + 1 + len(published)
    assert len({m.message_id for m in queued}) == len(queued)
    received = [m["Message-ID"] for m in stack.mail.of_cycle(cycle_id)]
    assert sorted(received) == sorted(m.message_id for m in queued)  # each arrived once
    task_states = stack.task_states(run_id)
    assert task_states["apply_step"].count("COMPLETED") == 4
    assert task_states["send_requests"].count("COMPLETED") == 2
    assert (
        "CACHED" in " ".join(task_states["open_or_attach"]).upper()
        or len(task_states["open_or_attach"]) >= 3
    )
