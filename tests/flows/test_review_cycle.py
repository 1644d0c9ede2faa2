"""A plan line's review cycle on a real Prefect server with a process worker, real mail."""

from __future__ import annotations

import asyncio

import pytest
from prefect.client.schemas.objects import StateType

from definitions.stage_rules import Verdict
from flows.control import Draft, Nudge, start_cycle
from tests.flows.conftest import Stack, wait_for
from tests.flows.helpers import answer, deliver, stage_of

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


def mails(stack: Stack, code: str, kind_words: str) -> list:  # type: ignore[type-arg]
    deliver(stack.settings)
    return [m for m in stack.mail.about(code) if kind_words in str(m["Subject"])]


def test_a_full_cycle_reaches_publication(stack: Stack) -> None:
    code = "2.1.a"  # Văn phòng leads; the three management departments review
    cycle_id, run_id = open_line(stack, code)
    suspended_at(stack, cycle_id, run_id, "review", 1)
    deliver(stack.settings)
    requests = [m for m in stack.mail.about(code) if "góp ý" in str(m["Subject"]).lower()]
    assert len(requests) == 3
    assert {m["To"].addresses[0].addr_spec for m in requests} == {
        "qlvanhoa@svhttdl.example", "qlthethao@svhttdl.example", "qldulich@svhttdl.example"
    }  # fmt: skip
    nudges = [answer(stack.settings, m, A, "Đồng ý") for m in requests]
    assert nudges[:2] == [Nudge.UNDECIDED, Nudge.UNDECIDED] and nudges[2] == Nudge.RESUMED
    suspended_at(stack, cycle_id, run_id, "approval", 1)
    deliver(stack.settings)
    approvals = [m for m in stack.mail.about(code) if "bangiamdoc@" in str(m["To"])]
    assert len(approvals) == 1
    assert answer(stack.settings, approvals[0], A, "Đồng ý ban hành") == Nudge.RESUMED
    stack.wait_state(run_id, StateType.COMPLETED)
    assert stage_of(stack.settings, cycle_id) == ("closed", 1, "published")
    deliver(stack.settings)
    ids = [m["Message-ID"] for m in stack.mail.about(code)]
    assert len(ids) == len(set(ids))  # every mail arrived once
    states = stack.states(run_id)
    assert states[:1] == ["SCHEDULED"] and states[-1] == "COMPLETED"
    assert states.count("PAUSED") == 2 and "RUNNING" in states
