"""The sweeper on a fixed clock: reminders, escalation, the silence rule, and the reconciler
that unsticks a cycle whose decision came without a resume."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from pathlib import Path

import pytest
from prefect.client.schemas.objects import StateType
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from definitions.stage_rules import Verdict
from duyet.cli import app
from duyet.definition_files import definitions
from flows.control import Nudge, resume_if_decided, view_of
from records.audit import canonical_json
from records.decisions import record_decision
from records.engine import session_scope
from records.models import AuditEvent
from tasks.anchors import published_anchors
from tests.faults.attack_helpers import audit_cli, entry_copy, rehashed, sqlite_copy
from tests.flows.helpers import answer, deliver, stage_of
from tests.flows.test_review_cycle import mails, open_line, suspended_at
from tests.records.factories import tamper
from tests.stack import Stack

pytestmark = pytest.mark.slow


def at(stack: Stack, day: dt.date, hour: int = 9) -> dt.datetime:
    tz = definitions(stack.settings).timezone
    return dt.datetime.combine(day, dt.time(hour), tzinfo=tz)


def deadline_day(stack: Stack, cycle_id: str) -> dt.date:
    view = view_of(stack.settings, cycle_id)
    assert view.stage_deadline is not None
    return view.stage_deadline.astimezone(definitions(stack.settings).timezone).date()


def interior_approves(stack: Stack, cycle_id: str) -> None:
    """Sở Nội vụ's approval of 4.3.a's review, recorded without resuming the run."""
    view = view_of(stack.settings, cycle_id)
    with session_scope(stack.settings.database_url) as session:
        record_decision(
            session,
            cycle_id=cycle_id,
            stage="review",
            round=1,
            reviewer_unit="so-noi-vu",
            reviewer_person="Chuyên viên Sở Nội vụ",
            verdict=Verdict.APPROVE,
            comment="Đồng ý",
            document_sha256=view.document_sha256 or "",
        )


def test_reminder_then_escalation_to_the_head_then_the_board(stack: Stack) -> None:
    code = "1.6"  # one reviewer: Phòng Tổ chức - Pháp chế; reminders 2 and 1 days before
    cycle_id, run_id = open_line(stack, code)
    suspended_at(stack, cycle_id, run_id, "review", 1)
    calendar = definitions(stack.settings).calendar
    deadline = deadline_day(stack, cycle_id)
    stack.sweep(at(stack, calendar.add(deadline, -1)))
    stack.sweep(at(stack, calendar.add(deadline, -1), hour=15))  # a second pass: nothing new
    reminders = mails(stack, cycle_id, "reminder")
    assert len(reminders) == 1 and "tochuc.phapche@" in str(reminders[0]["To"])
    stack.sweep(at(stack, calendar.add(deadline, 2)))
    heads = [m for m in mails(stack, cycle_id) if "truongphong.tcpc@" in str(m["To"])]
    assert len(heads) == 1
    assert not [m for m in mails(stack, cycle_id) if "bangiamdoc@" in str(m["To"])]
    stack.sweep(at(stack, calendar.add(deadline, 4)))
    stack.sweep(at(stack, calendar.add(deadline, 5)))
    board = [m for m in mails(stack, cycle_id) if "bangiamdoc@" in str(m["To"])]
    assert len(board) == 1
    assert stage_of(stack.settings, cycle_id)[:2] == ("review", 1)  # escalation keeps waiting


def test_silence_at_the_deadline_counts_as_consent(stack: Stack) -> None:
    code = "6.2"  # two reviewers; this line's process says silence consents
    cycle_id, run_id = open_line(stack, code)
    suspended_at(stack, cycle_id, run_id, "review", 1)
    requests = mails(stack, cycle_id, "review_request")
    assert len(requests) == 2
    answer(stack.settings, requests[0], Verdict.APPROVE, "Đồng ý")
    deadline = deadline_day(stack, cycle_id)
    stack.sweep(at(stack, deadline, hour=12))  # on the deadline day: still waiting
    assert stage_of(stack.settings, cycle_id)[:2] == ("review", 1)
    calendar = definitions(stack.settings).calendar
    stack.sweep(at(stack, calendar.add(deadline, 1)))
    suspended_at(stack, cycle_id, run_id, "approval", 1)
    silent = [a for a in view_of(stack.settings, cycle_id).answers]
    assert silent == []  # the approval stage has no answers yet
    deliver(stack.settings)


def test_the_reconciler_resumes_a_decided_stage_nobody_resumed(stack: Stack) -> None:
    code = "4.3.a"  # one reviewer: Sở Nội vụ
    cycle_id, run_id = open_line(stack, code)
    suspended_at(stack, cycle_id, run_id, "review", 1)
    interior_approves(stack, cycle_id)  # decided, but no resume
    time.sleep(3)
    assert stack.run(run_id).state.type == StateType.PAUSED  # stuck without the reconciler
    stack.sweep(dt.datetime.now(dt.UTC))
    suspended_at(stack, cycle_id, run_id, "approval", 1)


def test_resumes_at_the_same_moment_move_the_cycle_once(stack: Stack) -> None:
    """The portal's resume and the reconciler's can meet: Prefect takes them all, or answers
    one "not paused" or, on PostgreSQL, 409 (its run input's key taken: the scale tier meets it);
    none may fail the caller, and the cycle moves once, with one approval request."""
    cycle_id, run_id = open_line(stack, "4.3.a")  # one reviewer: Sở Nội vụ
    suspended_at(stack, cycle_id, run_id, "review", 1)
    interior_approves(stack, cycle_id)

    async def together() -> list[Nudge]:
        return list(
            await asyncio.gather(*(resume_if_decided(stack.settings, cycle_id) for _ in range(4)))
        )

    outcomes = asyncio.run(together())
    assert Nudge.RESUMED in outcomes and set(outcomes) <= {Nudge.RESUMED, Nudge.NOT_PAUSED}
    suspended_at(stack, cycle_id, run_id, "approval", 1)
    assert len(mails(stack, cycle_id, "approval_request")) == 1


def test_the_sweeper_anchors_the_audit_chain_on_the_prefect_server(
    stack: Stack, tmp_path: Path
) -> None:
    open_line(stack, "1.6")  # something on the chain besides the import
    stack.sweep(dt.datetime.now(dt.UTC))
    anchors = asyncio.run(published_anchors())
    assert anchors, "the sweeper published no anchor"
    newest = anchors[0]
    with session_scope(stack.settings.database_url) as session:
        rows = [entry_copy(e) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert rows[newest.seq - 1].hash == newest.hash
    # Someone with the records database only rewrites an early entry consistently.
    copy = sqlite_copy(stack.settings.database_url, tmp_path / "rewritten.db")
    edited = rows[1]
    edited.payload = canonical_json(json.loads(edited.payload) | {"actor": "sửa lén"})
    engine = create_engine(copy)
    tamper(engine, *rehashed(rows, edited.seq))
    engine.dispose()
    alone = audit_cli(copy, "verify")  # --no-anchors: the chain alone holds
    assert alone.exit_code == 0, alone.output
    env = {"DUYET_DATABASE_URL": copy, "COLUMNS": "200"}
    anchored = CliRunner().invoke(app, ["audit", "verify"], env=env)
    assert anchored.exit_code == 1, anchored.output
    assert "mốc đã công bố trên Prefect" in anchored.output
    assert "mã băm khác mốc đã công bố" in anchored.output
