"""The sweeper's work on sleeping cycles: reminders before a stage deadline, escalation after
it. Idempotent: the outbox keys reminders by days left and escalations by level."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel
from sqlalchemy.orm import Session

from definitions.stage_rules import StepKind, Verdict
from duyet.definition_files import Definitions, definitions
from duyet.engine import CycleView, evaluate
from duyet.messages import SILENCE_CONSENT
from duyet.settings import Settings, get_settings
from notifications.followups import escalate, send_reminder
from records.cycle_reads import open_cycles
from records.decisions import record_decision
from records.engine import session_scope

ACTOR = "flow:sweeper"


class FollowUpReport(BaseModel):
    cycles: int = 0
    reminders: int = 0
    escalations: int = 0
    decided: list[str] = []  # cycles whose stage is decided (by people or by silence)


@task(cache_policy=NO_CACHE, persist_result=False, retries=2, retry_delay_seconds=5)
def follow_up(now: dt.datetime) -> FollowUpReport:
    """Remind and escalate on every open cycle, as its process definition says."""
    settings = get_settings()
    defs = definitions(settings)
    report = FollowUpReport()
    with session_scope(settings.database_url) as session:
        cycle_ids = [c.id for c in open_cycles(session)]
    for cycle_id in cycle_ids:
        with session_scope(settings.database_url) as session:
            view = evaluate(session, defs, cycle_id=cycle_id, now=now)
            report.cycles += 1
            if view.decided and view.by_silence:
                _record_silence(session, view, now)
            if view.decided:
                report.decided.append(cycle_id)
            elif view.step == StepKind.WAIT and view.stage_deadline and view.missing:
                reminded, escalated = _chase(session, settings, defs, view, now)
                report.reminders += reminded
                report.escalations += escalated
    return report


def _record_silence(session: Session, view: CycleView, now: dt.datetime) -> None:
    """The silence rule, written down: each silent unit's consent becomes a decision on record,
    so the trail says who was deemed to agree, when and why, whatever clock reads it later."""
    assert view.document_sha256 is not None
    for unit in view.missing:
        record_decision(
            session,
            cycle_id=view.cycle_id,
            stage=view.stage,
            round=view.round,
            reviewer_unit=unit,
            reviewer_person=None,
            verdict=Verdict.APPROVE,
            comment=SILENCE_CONSENT,
            document_sha256=view.document_sha256,
            now=now,
        )


def _chase(
    session: Session, settings: Settings, defs: Definitions, view: CycleView, now: dt.datetime
) -> tuple[int, int]:
    assert view.stage_deadline is not None
    line = defs.line(view.plan_id, view.code)
    stage = defs.stage(line, view.stage)
    today = defs.today(now)
    deadline = view.stage_deadline.astimezone(defs.timezone).date()
    common: dict[str, Any] = {
        "settings": settings,
        "directory": defs.units(view.plan_id),
        "cycle_id": view.cycle_id,
        "stage": view.stage,
        "round": view.round,
        "actor": ACTOR,
        "units": view.missing,
        "deadline": deadline,
        "now": now,
    }
    if today <= deadline:
        days_left = defs.calendar.between(today, deadline)
        due = [r for r in stage.reminders if days_left <= r]
        if not due:
            return 0, 0
        # the nearest reminder only: a sweep that starts late does not send all of them at once
        return len(send_reminder(session, days_left=min(due), **common)), 0
    overdue = defs.calendar.between(deadline, today)
    sent = 0
    for level in stage.escalation:
        if overdue >= level.after_days:
            sent += len(escalate(session, to=level.to, days_overdue=overdue, **common))
    return 0, sent
