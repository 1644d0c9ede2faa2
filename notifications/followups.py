"""Chasing a stage's deadline: reminders before it, escalation up the unit ladder after it.

Called by the sweeper; both do nothing once the cycle has moved on, and nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal

from sqlalchemy.orm import Session

from definitions.units import UnitDirectory
from duyet.settings import Settings
from notifications import facts
from notifications.context import Base, Escalation, Reminder
from notifications.mail import MailKind
from notifications.queue import Outbox, Parts, stage_name, targets
from notifications.recipients import head_of, of_unit, unit_name, units_of
from records.cycle_reads import get_cycle
from records.models import Mail as OutboxMail
from records.models import ReviewCycle


def send_reminder(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    cycle_id: str,
    stage: str,
    round: int,
    days_left: int,
    actor: str,
    units: Sequence[str] | None = None,
    deadline: date | None = None,
    now: datetime | None = None,
) -> list[OutboxMail]:
    """Remind the units that have not answered yet (default: every unit asked and silent), with a
    fresh link; one reminder per `days_left`. Nothing if the cycle has moved on."""
    out = Outbox.open(session, settings=settings, directory=directory, actor=actor, now=now)
    cycle = get_cycle(session, cycle_id=cycle_id)
    late = facts.pending_units(session, cycle, stage=stage, round=round)

    def make(p: Parts) -> Base:
        return Reminder(**p.common, action=p.action, days_left=days_left, document=p.document)

    return out.requests(
        MailKind.REMINDER,
        cycle=cycle,
        stage=stage,
        round=round,
        targets=targets(directory, units, default=late),
        deadline=deadline,
        make=make,
        variant=f"{days_left}d",
        strict=False,
    )


def escalate(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    cycle_id: str,
    stage: str,
    round: int,
    to: Literal["head", "board"],
    days_overdue: int,
    actor: str,
    units: Sequence[str] | None = None,
    deadline: date | None = None,
    now: datetime | None = None,
) -> list[OutboxMail]:
    """Tell the head of each late unit (with a link to act for the unit), or the Director's
    board (one mail listing the late units, no link). Nothing if the cycle has moved on."""
    out = Outbox.open(session, settings=settings, directory=directory, actor=actor, now=now)
    cycle = get_cycle(session, cycle_id=cycle_id)
    default = facts.pending_units(session, cycle, stage=stage, round=round)
    late = [unit.id for unit in units_of(directory, default if units is None else units)]
    if to == "board":
        return _escalate_to_board(
            out, cycle, stage=stage, round=round, late=late, days=days_overdue, deadline=deadline
        )

    def make(p: Parts) -> Base:
        return Escalation(
            **p.common,
            stage=stage_name(stage),
            deadline=p.action.deadline,
            days_overdue=days_overdue,
            late_units=[unit_name(directory, p.to.unit_id)],
            to="head",
            action=p.action,
        )

    return out.requests(
        MailKind.ESCALATION,
        cycle=cycle,
        stage=stage,
        round=round,
        targets=[head_of(directory, unit) for unit in late],
        deadline=deadline,
        make=make,
        variant="head",
        strict=False,
    )


def _escalate_to_board(
    out: Outbox,
    cycle: ReviewCycle,
    *,
    stage: str,
    round: int,
    late: list[str],
    days: int,
    deadline: date | None,
) -> list[OutboxMail]:
    board = of_unit(out.directory.unit(out.directory.roles.director_board))
    kind = MailKind.ESCALATION
    key = out.key(kind, cycle_id=cycle.id, stage=stage, round=round, to=board, variant="board")
    queued = out.queued(key)
    if queued is not None:
        return [queued]
    if not late or (cycle.status, cycle.stage, cycle.round) != ("open", stage, round):
        return []
    context = Escalation(
        sender=facts.sender_of(out.directory, out.settings, portal=False),
        recipient=board.salutation,
        issued_at=out.now,
        line=facts.line_of(out.session, cycle),
        round=round,
        stage=stage_name(stage),
        deadline=facts.deadline_of(cycle, settings=out.settings, given=deadline),
        days_overdue=days,
        late_units=[unit_name(out.directory, unit) for unit in late],
        to="board",
    )
    return [
        out.queue(
            kind,
            cycle_id=cycle.id,
            stage=stage,
            round=round,
            to=board,
            build=lambda _links: context,
            variant="board",
        )
    ]
