"""Mail that tells rather than asks (rejected, published, cancelled, dead letters, the periodic
report), and the daily digest of a unit's pending requests. Same rules as
`notifications.dispatch`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from definitions.stage_rules import Stage, kind_of
from definitions.units import UnitDirectory
from duyet.settings import Settings
from notifications import facts
from notifications.context import (
    Base,
    Cancelled,
    DeadLetter,
    Digest,
    DigestItem,
    Document,
    FailedMail,
    ProgressReport,
    Published,
    Rejected,
)
from notifications.mail import MailKind
from notifications.queue import Links, Outbox, stage_name, targets
from notifications.recipients import Recipient, of_unit
from records.cycle_reads import get_cycle
from records.errors import NoDocument
from records.models import Mail as OutboxMail
from records.models import ReviewCycle
from records.outbox import get_mail
from records.tokens import links_of_cycle, revoke_token

REQUEST_STAGES = (Stage.DRAFT, Stage.REVIEW, Stage.APPROVAL, Stage.PUBLICATION)


def notify_rejected(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    cycle_id: str,
    actor: str,
    units: Sequence[str] | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> list[OutboxMail]:
    """Tell the lead unit(s) the cycle ended without approval, with the last round's opinions."""
    out = Outbox.open(session, settings=settings, directory=directory, actor=actor, now=now)
    cycle = get_cycle(session, cycle_id=cycle_id)
    lead, _ = facts.lead_and_partners(session, cycle)
    common = _common(out, cycle)
    document = facts.latest_document(session, cycle_id=cycle.id)
    comments = out.comments(cycle, round=cycle.round)

    def make(to: Recipient) -> Base:
        return Rejected(
            **common, recipient=to.salutation, document=document, comments=comments, reason=reason
        )

    recipients = targets(directory, units, default=lead, fallback=directory.roles.office)
    return _tell(out, MailKind.REJECTED, cycle, Stage.CLOSED, recipients, make)


def notify_published(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    cycle_id: str,
    actor: str,
    units: Sequence[str] | None = None,
    issued: Document | None = None,
    number: str | None = None,
    public_url: str | None = None,
    now: datetime | None = None,
) -> list[OutboxMail]:
    """Send the published document (attached) to its recipients (default: lead, partners and
    the Office; the flows pass the process definition's `recipients`): the issued, signed PDF
    when there is one (`issued`, `number`), else the approved version."""
    out = Outbox.open(session, settings=settings, directory=directory, actor=actor, now=now)
    cycle = get_cycle(session, cycle_id=cycle_id)
    document = issued or facts.latest_document(session, cycle_id=cycle.id)
    if document is None:
        raise NoDocument()
    lead, partners = facts.lead_and_partners(session, cycle)
    published_at = cycle.closed_at or out.now
    published_on = published_at.astimezone(ZoneInfo(settings.timezone)).date()
    common = _common(out, cycle)

    def make(to: Recipient) -> Base:
        return Published(
            **common,
            recipient=to.salutation,
            document=document,
            published_on=published_on,
            number=number,
            public_url=public_url,
        )

    default = [*lead, *partners, directory.roles.office]
    recipients = targets(directory, units, default=default)
    return _tell(out, MailKind.PUBLISHED, cycle, Stage.PUBLICATION, recipients, make)


def notify_cancelled(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    cycle_id: str,
    reason: str,
    actor: str,
    units: Sequence[str] | None = None,
    now: datetime | None = None,
) -> list[OutboxMail]:
    """Revoke every open link of the cycle and tell the units (default: the lead and every unit
    that was sent a link) that nothing more is expected of them."""
    out = Outbox.open(session, settings=settings, directory=directory, actor=actor, now=now)
    cycle = get_cycle(session, cycle_id=cycle_id)
    links = links_of_cycle(session, cycle_id=cycle.id)
    for link in links:
        if link.used_at is None and link.revoked_at is None:
            revoke_token(session, link_id=link.id, actor=actor, reason=reason, now=out.now)
    if cycle.status == "open":
        stopped_at: str | None = cycle.stage
    else:  # links are issued at the cycle's current stage: the last one tells where it stopped
        stopped_at = links[-1].stage if links else None
    lead, _ = facts.lead_and_partners(session, cycle)
    common = _common(out, cycle)
    stage = stage_name(stopped_at) if stopped_at and kind_of(stopped_at) in REQUEST_STAGES else None

    def make(to: Recipient) -> Base:
        return Cancelled(**common, recipient=to.salutation, stage=stage, reason=reason)

    default = [*lead, *(link.recipient_unit for link in links)]
    recipients = targets(directory, units, default=default, fallback=directory.roles.office)
    return _tell(out, MailKind.CANCELLED, cycle, Stage.CLOSED, recipients, make)


def send_digest(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    unit: str,
    cycle_ids: Sequence[str],
    on: date,
    actor: str,
    now: datetime | None = None,
) -> list[OutboxMail]:
    """One mail to `unit` listing what it still has to do in `cycle_ids`, a fresh link each;
    once per unit and day, nothing if nothing is pending."""
    out = Outbox.open(session, settings=settings, directory=directory, actor=actor, now=now)
    to = of_unit(directory.unit(unit))
    variant = on.isoformat()
    queued = out.queued(
        out.key(MailKind.DIGEST, cycle_id=None, stage="digest", round=0, to=to, variant=variant)
    )
    if queued is not None:
        return [queued]
    cycles = [get_cycle(session, cycle_id=cycle_id) for cycle_id in dict.fromkeys(cycle_ids)]
    pending = [
        cycle
        for cycle in cycles
        if cycle.status == "open"
        and kind_of(cycle.stage) in REQUEST_STAGES
        and not facts.has_answered(session, cycle, unit=to.unit_id)
    ]
    if not pending:
        return []

    def build(links: Links) -> Base:
        items = []
        for cycle in pending:
            document, sha256 = facts.bound_document(
                session, cycle_id=cycle.id, stage=cycle.stage, round=cycle.round
            )
            action = links.action(
                cycle_id=cycle.id,
                stage=cycle.stage,
                round=cycle.round,
                document_sha256=sha256,
                deadline=facts.deadline_of(cycle, settings=settings, given=None),
            )
            line = facts.line_of(session, cycle)
            items.append(DigestItem(line=line, action=action, document=document))
        return Digest(
            sender=facts.sender_of(directory, settings),
            recipient=to.salutation,
            issued_at=out.now,
            on=on,
            items=items,
        )

    mail = out.queue(
        MailKind.DIGEST,
        cycle_id=None,
        stage="digest",
        round=0,
        to=to,
        build=build,
        variant=variant,
    )
    return [mail]


def notify_dead_letter(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    mail_id: int,
    actor: str,
    now: datetime | None = None,
) -> OutboxMail | None:
    """Tell the Office, once, that a mail is dead; never about a dead letter (no loops)."""
    out = Outbox.open(session, settings=settings, directory=directory, actor=actor, now=now)
    dead = get_mail(session, mail_id=mail_id)
    if dead.status != "dead" or dead.kind == MailKind.DEAD_LETTER:
        return None
    office = of_unit(directory.unit(directory.roles.office))
    if dead.cycle_id is not None:
        code = get_cycle(session, cycle_id=dead.cycle_id).line_code
    else:  # every subject starts with the line code(s)
        code = dead.subject.split(" — ", 1)[0]
    context = DeadLetter(
        sender=facts.sender_of(directory, settings, portal=False),
        recipient=office.salutation,
        issued_at=out.now,
        code=code,
        failed=FailedMail(
            mail_id=dead.id,
            kind=dead.kind,
            to=dead.to_addr,
            subject=dead.subject,
            attempts=dead.attempts,
            last_error=dead.last_error,
            message_id=dead.message_id,
            created_at=dead.created_at,
        ),
    )
    return out.queue(
        MailKind.DEAD_LETTER,
        cycle_id=dead.cycle_id,
        stage=dead.stage,
        round=dead.round,
        to=office,
        build=lambda _links: context,
        variant=f"mail-{dead.id}",
    )


def notify_progress_report(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    plan_key: str,
    plan_title: str,
    period: str,
    number: str,
    published_on: date,
    document: Document,
    annex: Document,
    public_url: str | None,
    actor: str,
    now: datetime | None = None,
) -> list[OutboxMail]:
    """Send the issued periodic report (PDF and XLSX annex) to the Office and the Director's
    board; once per plan and period, whatever the retries."""
    out = Outbox.open(session, settings=settings, directory=directory, actor=actor, now=now)
    common = {
        "sender": facts.sender_of(directory, settings, portal=False),
        "issued_at": out.now,
        "plan_title": plan_title,
        "period": period,
        "number": number,
        "published_on": published_on,
        "document": document,
        "annex": annex,
        "public_url": public_url,
    }
    recipients = targets(
        directory, [directory.roles.office, directory.roles.director_board], default=()
    )
    rows: list[OutboxMail] = []
    for to in recipients:

        def build(_links: Links, to: Recipient = to) -> Base:
            return ProgressReport(**common, recipient=to.salutation)

        rows.append(
            out.queue(
                MailKind.PROGRESS_REPORT,
                cycle_id=None,
                stage="report",
                round=0,
                to=to,
                build=build,
                variant=f"{plan_key}:{period}",
            )
        )
    return rows


def _common(out: Outbox, cycle: ReviewCycle) -> dict[str, Any]:
    return {
        "sender": facts.sender_of(out.directory, out.settings, portal=False),
        "issued_at": out.now,
        "line": facts.line_of(out.session, cycle),
        "round": cycle.round,
    }


def _tell(
    out: Outbox,
    kind: MailKind,
    cycle: ReviewCycle,
    stage: str,
    recipients: Sequence[Recipient],
    make: Callable[[Recipient], Base],
) -> list[OutboxMail]:
    rows: list[OutboxMail] = []
    for to in recipients:

        def build(_links: Links, to: Recipient = to) -> Base:
            return make(to)

        rows.append(
            out.queue(kind, cycle_id=cycle.id, stage=stage, round=cycle.round, to=to, build=build)
        )
    return rows
