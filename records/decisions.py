"""Reviewers' decisions: one per unit per stage per round, by constraint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from definitions.stage_rules import Verdict
from records import audit
from records.cycle_reads import get_cycle
from records.cycles import record_cycle_event, require_at
from records.documents import check_upload, store_blob
from records.errors import AlreadyDecided
from records.models import Decision
from records.tokens import consume_token


@dataclass(frozen=True)
class Attachment:
    """A file a unit attaches to its decision (Sở Tư pháp's appraisal report)."""

    content: bytes
    filename: str
    media_type: str


def record_decision(
    session: Session,
    *,
    cycle_id: str,
    stage: str,
    round: int,
    reviewer_unit: str,
    reviewer_person: str | None,
    verdict: Verdict,
    comment: str,
    document_sha256: str,
    client_ip: str | None = None,
    user_agent: str | None = None,
    token_id: int | None = None,
    attachment: Attachment | None = None,
    max_bytes: int | None = None,
    now: datetime | None = None,
) -> Decision:
    """Record a unit's decision at the cycle's current stage and round, once.

    A second decision of the same unit raises `AlreadyDecided` carrying the first.

    The caller's transaction survives it: a duplicate insert is undone by a savepoint.
    """
    audit.lock(session)
    cycle = get_cycle(session, cycle_id=cycle_id)
    require_at(cycle, stage=stage, round=round)
    existing = find_decision(
        session, cycle_id=cycle_id, stage=stage, round=round, reviewer_unit=reviewer_unit
    )
    if existing is not None:
        raise AlreadyDecided(existing)
    moment = now or audit.utcnow()
    attached: str | None = None
    if attachment is not None:
        check_upload(attachment.content, attachment.media_type, max_bytes=max_bytes)
        attached = store_blob(
            session, content=attachment.content, media_type=attachment.media_type, now=moment
        )
    decision = Decision(
        cycle_id=cycle_id,
        stage=stage,
        round=round,
        reviewer_unit=reviewer_unit,
        reviewer_person=reviewer_person,
        verdict=Verdict(verdict),
        comment=comment,
        document_sha256=document_sha256,
        decided_at=moment,
        client_ip=client_ip,
        user_agent=user_agent,
        token_id=token_id,
        attachment_sha256=attached,
        attachment_filename=attachment.filename if attachment else None,
    )
    try:
        with session.begin_nested():
            session.add(decision)
    except IntegrityError:
        # A concurrent writer that skipped the writers' lock got there first.
        existing = find_decision(
            session, cycle_id=cycle_id, stage=stage, round=round, reviewer_unit=reviewer_unit
        )
        if existing is None:
            raise
        raise AlreadyDecided(existing) from None
    record_cycle_event(
        session,
        cycle=cycle,
        actor=f"{reviewer_unit}:{reviewer_person}" if reviewer_person else reviewer_unit,
        action="decision.recorded",
        at=moment,
        decision_id=decision.id,
        stage=stage,
        round=round,
        reviewer_unit=reviewer_unit,
        reviewer_person=reviewer_person,
        verdict=decision.verdict,
        comment=comment,
        document_sha256=document_sha256,
        link_id=token_id,
        client_ip=client_ip,
        user_agent=user_agent,
        **(
            {"attachment_sha256": attached, "attachment_filename": attachment.filename}
            if attachment
            else {}
        ),
    )
    return decision


def decide_by_token(
    session: Session,
    *,
    raw_token: str,
    verdict: Verdict,
    comment: str,
    reviewer_person: str | None,
    client_ip: str | None,
    user_agent: str | None,
    attachment: Attachment | None = None,
    max_bytes: int | None = None,
    now: datetime | None = None,
) -> Decision:
    """Use a reviewer's link (once) to record the decision it was issued for.

    On any refusal the link stays unused, even if the caller goes on and commits.
    """
    with session.begin_nested():
        token = consume_token(session, raw_token=raw_token, now=now)
        return record_decision(
            session,
            cycle_id=token.cycle_id,
            stage=token.stage,
            round=token.round,
            reviewer_unit=token.recipient_unit,
            reviewer_person=reviewer_person,
            verdict=verdict,
            comment=comment,
            document_sha256=token.document_sha256,
            client_ip=client_ip,
            user_agent=user_agent,
            token_id=token.id,
            attachment=attachment,
            max_bytes=max_bytes,
            now=now,
        )


def find_decision(
    session: Session, *, cycle_id: str, stage: str, round: int, reviewer_unit: str
) -> Decision | None:
    """The decision of one unit at one stage and round, if any."""
    return session.scalars(
        select(Decision).where(
            Decision.cycle_id == cycle_id,
            Decision.stage == stage,
            Decision.round == round,
            Decision.reviewer_unit == reviewer_unit,
        )
    ).first()


_DECISIONS = (  # built once (see records.cycle_reads._CYCLE)
    select(Decision)
    .where(Decision.cycle_id == bindparam("cycle_id"))
    .order_by(Decision.decided_at, Decision.id)
)


def decisions_of_cycle(
    session: Session, *, cycle_id: str, stage: str | None = None, round: int | None = None
) -> list[Decision]:
    """The decisions of a cycle, optionally of one stage and round, in the order made."""
    if stage is None and round is None:
        return list(session.scalars(_DECISIONS, {"cycle_id": cycle_id}))
    query = select(Decision).where(Decision.cycle_id == cycle_id)
    if stage is not None:
        query = query.where(Decision.stage == stage)
    if round is not None:
        query = query.where(Decision.round == round)
    return list(session.scalars(query.order_by(Decision.decided_at, Decision.id)))
