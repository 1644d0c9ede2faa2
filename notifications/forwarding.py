"""A pending request sent again: forwarded by a reviewer to a colleague of the same unit
(delegation), or re-sent by the Office to a unit that has not answered.

Either way the old link dies (revoked, audited) and the request goes out again with a new link
bound to the same cycle, stage, round and unit, all in the caller's transaction.

Delegation rule: the colleague's address must be on the mail domain of the unit's own address
(`vanphong@svhttdl.example` → `*@svhttdl.example`), and differ from the address the link went
to. The unit directory holds unit mailboxes, not staff lists, so the domain is what shows that
an address belongs to the unit's organisation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from definitions.stage_rules import Stage, kind_of
from definitions.units import UnitDirectory
from duyet.messages import MAIL_SALUTATIONS, PORTAL_REASONS
from duyet.settings import Settings
from notifications import facts
from notifications.context import ApprovalRequest, Base, DraftRequest, ReviewRequest
from notifications.mail import MailKind
from notifications.queue import Outbox, Parts
from notifications.recipients import Recipient, of_unit
from records.cycle_reads import get_cycle
from records.cycles import require_at
from records.delegations import record_delegation
from records.errors import CycleClosed, RecordError, TokenUnknown
from records.models import LinkToken, ReviewCycle
from records.models import Mail as OutboxMail
from records.tokens import links_of_cycle, revoke_token

EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
REQUEST_KINDS = {
    Stage.DRAFT: MailKind.DRAFT_REQUEST,
    Stage.REVIEW: MailKind.REVIEW_REQUEST,
    Stage.APPROVAL: MailKind.APPROVAL_REQUEST,
}


class DelegationRefused(RecordError):
    """The address cannot take the request: `reason` is `invalid`, `domain` or `same`."""

    code = "delegation-refused"


class AlreadyAnswered(RecordError):
    code = "unit-answered"


def may_delegate(directory: UnitDirectory, *, unit_id: str, current: str, to_email: str) -> str:
    """Why `to_email` may not act for the unit (`invalid`, `domain`, `same`), or `""`."""
    if len(to_email) > 320 or EMAIL.fullmatch(to_email) is None:
        return "invalid"
    try:
        unit = directory.unit(unit_id)
    except KeyError:
        return "domain"
    if to_email.rsplit("@", 1)[1].lower() != unit.email.rsplit("@", 1)[1].lower():
        return "domain"
    return "same" if to_email.lower() == current.lower() else ""


def delegate_link(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    link_id: int,
    to_email: str,
    person: str | None,
    now: datetime | None = None,
) -> LinkToken:
    """Revoke an unused link and send its request to a colleague; return the new link."""
    link = session.get(LinkToken, link_id, populate_existing=True)
    if link is None:
        raise TokenUnknown()
    actor = f"link:{link.recipient_unit}" + (f" ({person})" if person else "")
    out = Outbox.open(session, settings=settings, directory=directory, actor=actor, now=now)
    cycle = get_cycle(session, cycle_id=link.cycle_id)
    require_at(cycle, stage=link.stage, round=link.round)
    email = to_email.strip()
    refusal = may_delegate(
        directory, unit_id=link.recipient_unit, current=link.recipient_email, to_email=email
    )
    if refusal:
        raise DelegationRefused(reason=PORTAL_REASONS[f"delegate-{refusal}"], email=email)
    reason = PORTAL_REASONS["delegated"].format(email=email)
    revoke_token(session, link_id=link.id, actor=actor, reason=reason, now=out.now)
    unit = directory.unit(link.recipient_unit)
    salutation = MAIL_SALUTATIONS["delegate"].format(email=email, unit=unit.name)
    to = Recipient(unit.id, email, salutation)
    _request(out, cycle, link.stage, link.round, to, variant=f"delegated-{link.id}")
    new = session.scalars(
        select(LinkToken)
        .where(
            LinkToken.cycle_id == cycle.id,
            LinkToken.stage == link.stage,
            LinkToken.round == link.round,
            LinkToken.recipient_unit == unit.id,
            LinkToken.recipient_email == email,
        )
        .order_by(LinkToken.id.desc())
    ).first()
    assert new is not None  # issued just above
    record_delegation(session, from_link_id=link.id, to_link_id=new.id, delegated_by=actor)
    return new


def resend_request(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    cycle_id: str,
    unit: str,
    actor: str,
    now: datetime | None = None,
) -> OutboxMail:
    """Revoke the unit's open links at the cycle's stage and round and mail it a new one."""
    out = Outbox.open(session, settings=settings, directory=directory, actor=actor, now=now)
    cycle = get_cycle(session, cycle_id=cycle_id)
    if cycle.status != "open" or kind_of(cycle.stage) not in REQUEST_KINDS:
        raise CycleClosed()
    if facts.has_answered(session, cycle, unit=unit):
        raise AlreadyAnswered(unit=unit)
    stage, round = cycle.stage, cycle.round
    earlier = [
        link
        for link in links_of_cycle(session, cycle_id=cycle.id)
        if (link.stage, link.round, link.recipient_unit) == (stage, round, unit)
    ]
    for link in earlier:
        if link.used_at is None and link.revoked_at is None:
            reason = PORTAL_REASONS["resent"]
            revoke_token(session, link_id=link.id, actor=actor, reason=reason, now=out.now)
    to = of_unit(directory.unit(unit))
    return _request(out, cycle, stage, round, to, variant=f"resend-{len(earlier) + 1}")


def _request(
    out: Outbox, cycle: ReviewCycle, stage: str, round: int, to: Recipient, *, variant: str
) -> OutboxMail:
    """The stage's request mail to `to`, with a new link, under its own idempotency variant."""
    make: Callable[[Parts], Base]
    kind = kind_of(stage)
    if kind == Stage.DRAFT:
        comments = out.comments(cycle, round=round - 1) if round > 1 else []

        def make(p: Parts) -> Base:
            return DraftRequest(**p.common, action=p.action, previous=p.document, comments=comments)

    elif kind == Stage.REVIEW:

        def make(p: Parts) -> Base:
            assert p.document is not None
            return ReviewRequest(**p.common, action=p.action, document=p.document)

    else:
        review = out.comments(cycle, round=round)

        def make(p: Parts) -> Base:
            assert p.document is not None
            return ApprovalRequest(
                **p.common, action=p.action, document=p.document, comments=review
            )

    rows = out.requests(
        REQUEST_KINDS[kind],
        cycle=cycle,
        stage=stage,
        round=round,
        targets=[to],
        deadline=None,
        make=make,
        variant=variant,
    )
    return rows[0]
