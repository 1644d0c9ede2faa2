"""The mail the flows send, one function per occasion.

Each takes the caller's session and issues the links it needs, renders and queues in the
caller's transaction: the mail commits, or not, with the state change that causes it. A second
call with the same arguments queues nothing and issues no link. `units` are unit or group ids
(groups expand through the directory); anything else (raw text) gets no mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from definitions.stage_rules import Stage
from definitions.units import UnitDirectory
from duyet.settings import Settings
from notifications import facts
from notifications.context import (
    ApprovalRequest,
    Base,
    ChangesRequested,
    DraftRequest,
    ReviewRequest,
)
from notifications.followups import escalate, send_reminder
from notifications.mail import MailKind
from notifications.notices import (
    notify_cancelled,
    notify_dead_letter,
    notify_published,
    notify_rejected,
    send_digest,
)
from notifications.queue import Outbox, Parts, targets
from records.cycle_reads import get_cycle
from records.models import Mail as OutboxMail

__all__ = [
    "escalate",
    "notify_cancelled",
    "notify_changes_requested",
    "notify_dead_letter",
    "notify_published",
    "notify_rejected",
    "request_approval",
    "request_draft",
    "request_review",
    "send_digest",
    "send_reminder",
]


def request_draft(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    cycle_id: str,
    round: int,
    actor: str,
    units: Sequence[str] | None = None,
    deadline: date | None = None,
    now: datetime | None = None,
) -> list[OutboxMail]:
    """Ask the lead unit(s) for the draft of `round`, with the previous round's comments."""
    out = Outbox.open(session, settings=settings, directory=directory, actor=actor, now=now)
    cycle = get_cycle(session, cycle_id=cycle_id)
    lead, _ = facts.lead_and_partners(session, cycle)
    comments = out.comments(cycle, round=round - 1) if round > 1 else []

    def make(p: Parts) -> Base:
        return DraftRequest(**p.common, action=p.action, previous=p.document, comments=comments)

    return out.requests(
        MailKind.DRAFT_REQUEST,
        cycle=cycle,
        stage=Stage.DRAFT,
        round=round,
        targets=targets(directory, units, default=lead, fallback=directory.roles.office),
        deadline=deadline,
        make=make,
    )


def request_review(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    cycle_id: str,
    round: int,
    actor: str,
    units: Sequence[str] | None = None,
    deadline: date | None = None,
    now: datetime | None = None,
    stage: str = Stage.REVIEW,
) -> list[OutboxMail]:
    """Ask each coordinating unit (default: the line's partners but the lead) for its opinion."""
    out = Outbox.open(session, settings=settings, directory=directory, actor=actor, now=now)
    cycle = get_cycle(session, cycle_id=cycle_id)
    lead, partners = facts.lead_and_partners(session, cycle)

    def make(p: Parts) -> Base:
        assert p.document is not None
        return ReviewRequest(**p.common, action=p.action, document=p.document)

    return out.requests(
        MailKind.REVIEW_REQUEST,
        cycle=cycle,
        stage=stage,
        round=round,
        targets=targets(directory, units, default=partners, exclude=lead),
        deadline=deadline,
        make=make,
    )


def request_approval(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    cycle_id: str,
    round: int,
    actor: str,
    units: Sequence[str] | None = None,
    deadline: date | None = None,
    now: datetime | None = None,
    stage: str = Stage.APPROVAL,
) -> list[OutboxMail]:
    """Submit the round's document for approval (default: the Director's board), with the
    opinions given so far in the round."""
    out = Outbox.open(session, settings=settings, directory=directory, actor=actor, now=now)
    cycle = get_cycle(session, cycle_id=cycle_id)
    comments = out.comments(cycle, round=round)

    def make(p: Parts) -> Base:
        assert p.document is not None
        return ApprovalRequest(**p.common, action=p.action, document=p.document, comments=comments)

    return out.requests(
        MailKind.APPROVAL_REQUEST,
        cycle=cycle,
        stage=stage,
        round=round,
        targets=targets(directory, units, default=[directory.roles.director_board]),
        deadline=deadline,
        make=make,
    )


def notify_changes_requested(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    cycle_id: str,
    round: int,
    actor: str,
    units: Sequence[str] | None = None,
    deadline: date | None = None,
    now: datetime | None = None,
) -> list[OutboxMail]:
    """Tell the lead every comment of round `round - 1` and ask for the draft of `round`.

    Call it once the cycle is back at draft in the new round, instead of `request_draft`.
    """
    out = Outbox.open(session, settings=settings, directory=directory, actor=actor, now=now)
    cycle = get_cycle(session, cycle_id=cycle_id)
    lead, _ = facts.lead_and_partners(session, cycle)
    comments = out.comments(cycle, round=round - 1)

    def make(p: Parts) -> Base:
        return ChangesRequested(**p.common, action=p.action, previous=p.document, comments=comments)

    return out.requests(
        MailKind.CHANGES_REQUESTED,
        cycle=cycle,
        stage=Stage.DRAFT,
        round=round,
        targets=targets(directory, units, default=lead, fallback=directory.roles.office),
        deadline=deadline,
        make=make,
    )
