"""Review cycles of plan lines: open, move between stages by the rules, publish, cancel."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from definitions.stage_rules import IllegalTransition, Stage, check_cancel, check_transition
from records import audit
from records.cycle_reads import get_cycle
from records.errors import CycleClosed, CycleMoved, NoDocument
from records.models import DocumentVersion, ReviewCycle
from records.plans import plan_line


def cycle_ref(cycle: ReviewCycle) -> dict[str, Any]:
    """What every cycle-related audit payload carries, so history can be filtered by line."""
    return {
        "cycle_id": cycle.id,
        "plan_key": cycle.plan_key,
        "plan_version": cycle.plan_version,
        "line_code": cycle.line_code,
    }


def record_cycle_event(
    session: Session,
    *,
    cycle: ReviewCycle,
    actor: str,
    action: str,
    at: datetime | None = None,
    **details: Any,
) -> None:
    """Append an audit event about `cycle` (its reference plus `details`)."""
    audit.append(
        session,
        actor=actor,
        action=action,
        subject=f"cycle:{cycle.id}",
        payload=cycle_ref(cycle) | details,
        at=at,
    )


def open_cycle(
    session: Session,
    *,
    plan_key: str,
    line_code: str,
    opened_by: str,
    plan_version: int | None = None,
    flow_run_id: str | None = None,
    due: date | None = None,
    stage_deadline: datetime | None = None,
    now: datetime | None = None,
) -> ReviewCycle:
    """Start a cycle at draft, round 1, for a line of the given (default: latest) plan version."""
    audit.lock(session)
    line = plan_line(session, plan_key=plan_key, code=line_code, version=plan_version)
    moment = now or audit.utcnow()
    cycle = ReviewCycle(
        id=str(uuid.uuid4()),
        plan_key=plan_key,
        plan_version=line.plan_version,
        line_code=line_code,
        flow_run_id=flow_run_id,
        stage=Stage.DRAFT,
        round=1,
        status="open",
        opened_by=opened_by,
        opened_at=moment,
        stage_started_at=moment,
        stage_deadline=stage_deadline,
        due=due or line.due,
        closed_at=None,
        outcome=None,
    )
    session.add(cycle)
    session.flush()
    record_cycle_event(
        session,
        cycle=cycle,
        actor=opened_by,
        action="cycle.opened",
        at=moment,
        stage=cycle.stage,
        round=cycle.round,
        due=cycle.due,
        stage_deadline=stage_deadline,
        flow_run_id=flow_run_id,
    )
    return cycle


def require_at(cycle: ReviewCycle, *, stage: str, round: int) -> None:
    """Refuse unless the cycle is open at exactly `stage` and `round`."""
    if cycle.status != "open":
        raise CycleClosed()
    if (cycle.stage, cycle.round) != (stage, round):
        raise CycleMoved(stage=cycle.stage, round=cycle.round)


def attach_flow_run(
    session: Session, *, cycle_id: str, flow_run_id: str, actor: str
) -> ReviewCycle:
    """Record the Prefect flow run that drives the cycle (no event if unchanged)."""
    audit.lock(session)
    cycle = get_cycle(session, cycle_id=cycle_id)
    if cycle.flow_run_id != flow_run_id:
        previous, cycle.flow_run_id = cycle.flow_run_id, flow_run_id
        session.flush()
        record_cycle_event(
            session,
            cycle=cycle,
            actor=actor,
            action="cycle.flow_attached",
            flow_run_id=flow_run_id,
            previous_flow_run_id=previous,
        )
    return cycle


def advance_stage(
    session: Session,
    *,
    cycle_id: str,
    target: str,
    actor: str,
    round_change: int = 0,
    stage_deadline: datetime | None = None,
    now: datetime | None = None,
) -> ReviewCycle:
    """Move the cycle to stage key `target` if the stage rules allow it (`round_change=1` sends
    it back)."""
    audit.lock(session)
    cycle = get_cycle(session, cycle_id=cycle_id)
    if cycle.status != "open":
        raise CycleClosed()
    current, from_round = cycle.stage, cycle.round
    check_transition(current, target, round_change=round_change)
    if target == Stage.CLOSED:  # closing records an outcome: publish_document or cancel_cycle
        raise IllegalTransition(current, target, round_change=round_change)
    moment = now or audit.utcnow()
    _compare_and_set(
        session,
        cycle,
        stage=target,
        round=from_round + round_change,
        stage_deadline=stage_deadline,
        stage_started_at=moment,
    )
    record_cycle_event(
        session,
        cycle=cycle,
        actor=actor,
        action="stage.advanced",
        at=moment,
        from_stage=current,
        to_stage=target,
        from_round=from_round,
        round=cycle.round,
        stage_deadline=stage_deadline,
    )
    return cycle


def publish_document(
    session: Session, *, cycle_id: str, actor: str, now: datetime | None = None
) -> ReviewCycle:
    """Close a cycle at publication with its latest document version as the published one."""
    audit.lock(session)
    cycle = get_cycle(session, cycle_id=cycle_id)
    if cycle.status != "open":
        raise CycleClosed()
    check_transition(cycle.stage, Stage.CLOSED, round_change=0)
    document = session.scalars(
        select(DocumentVersion)
        .where(DocumentVersion.cycle_id == cycle.id)
        .order_by(DocumentVersion.round.desc())
        .limit(1)
    ).first()
    if document is None:
        raise NoDocument()
    _close(session, cycle, status="published", at=now)
    record_cycle_event(
        session,
        cycle=cycle,
        actor=actor,
        action="document.published",
        at=cycle.closed_at,
        round=cycle.round,
        document_round=document.round,
        sha256=document.sha256,
        filename=document.filename,
    )
    return cycle


def cancel_cycle(
    session: Session, *, cycle_id: str, actor: str, reason: str, now: datetime | None = None
) -> ReviewCycle:
    """Close an open cycle without publishing anything."""
    return _end(session, cycle_id=cycle_id, actor=actor, status="cancelled", now=now, reason=reason)


def close_rejected(
    session: Session, *, cycle_id: str, actor: str, verdict: str, now: datetime | None = None
) -> ReviewCycle:
    """Close a cycle sent back more times than its process allows."""
    return _end(
        session, cycle_id=cycle_id, actor=actor, status="rejected", now=now, verdict=verdict
    )


def _end(
    session: Session,
    *,
    cycle_id: str,
    actor: str,
    status: str,
    now: datetime | None,
    **details: Any,
) -> ReviewCycle:
    """Close an open cycle with `status`, logging `cycle.<status>` with where it stopped."""
    audit.lock(session)
    cycle = get_cycle(session, cycle_id=cycle_id)
    check_cancel(cycle.stage)
    from_stage = cycle.stage
    _close(session, cycle, status=status, at=now)
    record_cycle_event(
        session,
        cycle=cycle,
        actor=actor,
        action=f"cycle.{status}",
        at=cycle.closed_at,
        from_stage=from_stage,
        round=cycle.round,
        **details,
    )
    return cycle


def _close(session: Session, cycle: ReviewCycle, *, status: str, at: datetime | None) -> None:
    _compare_and_set(
        session,
        cycle,
        stage=Stage.CLOSED,
        status=status,
        outcome=status,
        closed_at=at or audit.utcnow(),
        stage_deadline=None,
    )


def _compare_and_set(session: Session, cycle: ReviewCycle, **values: Any) -> None:
    # Only succeeds if nobody moved the cycle since we read it, whatever the locking.
    session.flush()
    moved = session.execute(
        update(ReviewCycle)
        .where(
            ReviewCycle.id == cycle.id,
            ReviewCycle.stage == cycle.stage,
            ReviewCycle.round == cycle.round,
            ReviewCycle.status == "open",
        )
        .values(**values)
        .returning(ReviewCycle.id)
        .execution_options(synchronize_session=False)
    ).first()
    session.refresh(cycle)
    if moved is None:
        raise CycleMoved(stage=cycle.stage, round=cycle.round)
