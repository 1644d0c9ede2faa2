"""What a mail says about a cycle, read from the records: line, documents, comments, deadline."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from definitions.stage_rules import Stage
from definitions.units import UnitDirectory
from duyet.settings import Settings
from notifications.context import Comment, Document, Line, Sender
from notifications.recipients import unit_name
from records.decisions import decisions_of_cycle, find_decision
from records.documents import version_of_round, versions_of_cycle
from records.errors import NoDocument
from records.models import DocumentVersion, LinkToken, PlanLine, ReviewCycle
from records.plans import plan_line
from records.tokens import NO_DOCUMENT


class MissingDeadline(ValueError):
    """A request needs a deadline: the cycle has no stage deadline and none was given."""


def sender_of(directory: UnitDirectory, settings: Settings, *, portal: bool = True) -> Sender:
    """The organisation and its Office, who sign every mail."""
    office = directory.unit(directory.roles.office)
    return Sender(
        organisation=directory.organisation.name,
        office=office.name,
        portal_url=settings.require_public_base_url() + "/" if portal else None,
    )


def line_of(session: Session, cycle: ReviewCycle) -> Line:
    row = _line_row(session, cycle)
    products = row.extra.get("products") or []
    return Line(code=row.code, title=row.title, products=[str(p) for p in products])


def lead_and_partners(session: Session, cycle: ReviewCycle) -> tuple[list[str], list[str]]:
    """The line's lead and partner refs as imported (unit ids, group ids or raw text)."""
    row = _line_row(session, cycle)
    return list(row.lead), list(row.partners)


def _line_row(session: Session, cycle: ReviewCycle) -> PlanLine:
    return plan_line(
        session, plan_key=cycle.plan_key, code=cycle.line_code, version=cycle.plan_version
    )


def document(version: DocumentVersion | None) -> Document | None:
    if version is None:
        return None
    return Document(
        filename=version.filename,
        sha256=version.sha256,
        size=version.size,
        media_type=version.media_type,
    )


def bound_document(
    session: Session, *, cycle_id: str, stage: str, round: int
) -> tuple[Document | None, str]:
    """The document a link at `stage` and `round` is bound to, and its sha256.

    A draft link is bound to the version the comments were made on (none in round 1);
    other links to the version of their round.
    """
    if stage == Stage.DRAFT:
        previous = document(version_of_round(session, cycle_id=cycle_id, round=round - 1))
        return previous, previous.sha256 if previous else NO_DOCUMENT
    current = document(version_of_round(session, cycle_id=cycle_id, round=round))
    if current is None:
        raise NoDocument()
    return current, current.sha256


def latest_document(session: Session, *, cycle_id: str) -> Document | None:
    versions = versions_of_cycle(session, cycle_id=cycle_id)
    return document(versions[-1]) if versions else None


def comments_of(
    session: Session,
    directory: UnitDirectory,
    *,
    cycle_id: str,
    round: int,
    stage: str | None = None,
    zone: str,
) -> list[Comment]:
    """Every decision of a round (optionally of one stage), as compiled for a mail."""
    return [
        Comment(
            unit=unit_name(directory, decision.reviewer_unit),
            stage=decision.stage,
            verdict=decision.verdict,
            person=decision.reviewer_person,
            text=decision.comment,
            decided_on=decision.decided_at.astimezone(ZoneInfo(zone)).date(),
        )
        for decision in decisions_of_cycle(session, cycle_id=cycle_id, stage=stage, round=round)
        if decision.stage != Stage.CLOSED
    ]


def deadline_of(cycle: ReviewCycle, *, settings: Settings, given: date | None) -> date:
    """The day a request is due: `given`, else the cycle's stage deadline in the office's zone."""
    if given is not None:
        return given
    if cycle.stage_deadline is None:
        raise MissingDeadline(f"cycle {cycle.id} has no stage deadline: pass deadline=")
    return cycle.stage_deadline.astimezone(ZoneInfo(settings.timezone)).date()


def has_answered(session: Session, cycle: ReviewCycle, *, unit: str) -> bool:
    """Whether `unit` did what the cycle's current stage and round asks of it."""
    if cycle.stage == Stage.DRAFT:
        return version_of_round(session, cycle_id=cycle.id, round=cycle.round) is not None
    found = find_decision(
        session, cycle_id=cycle.id, stage=cycle.stage, round=cycle.round, reviewer_unit=unit
    )
    return found is not None


def pending_units(session: Session, cycle: ReviewCycle, *, stage: str, round: int) -> list[str]:
    """Units asked (sent a link) at `stage` and `round` of an open cycle that have not answered."""
    if cycle.status != "open" or (cycle.stage, cycle.round) != (stage, round):
        return []
    if stage == Stage.DRAFT and version_of_round(session, cycle_id=cycle.id, round=round):
        return []
    links = session.scalars(
        select(LinkToken)
        .where(
            LinkToken.cycle_id == cycle.id,
            LinkToken.stage == stage,
            LinkToken.round == round,
            LinkToken.revoked_at.is_(None),
        )
        .order_by(LinkToken.id)
    ).all()
    answered = {
        d.reviewer_unit
        for d in decisions_of_cycle(session, cycle_id=cycle.id, stage=stage, round=round)
    }
    asked = [link for link in links if link.used_at is None]
    used = {link.recipient_unit for link in links if link.used_at is not None}
    found: list[str] = []
    for link in asked:
        unit = link.recipient_unit
        if unit not in answered and unit not in used and unit not in found:
            found.append(unit)
    return found
