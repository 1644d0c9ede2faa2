"""Links a reviewer forwarded to a colleague of the same unit: which link replaced which."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import audit
from records.cycle_reads import get_cycle
from records.cycles import record_cycle_event
from records.errors import TokenUnknown
from records.models import LinkDelegation, LinkToken


def record_delegation(
    session: Session,
    *,
    from_link_id: int,
    to_link_id: int,
    delegated_by: str,
    now: datetime | None = None,
) -> LinkDelegation:
    """Note that `to_link_id` replaces the (already revoked) `from_link_id`, and audit it."""
    audit.lock(session)
    old, new = session.get(LinkToken, from_link_id), session.get(LinkToken, to_link_id)
    if old is None or new is None:
        raise TokenUnknown()
    moment = now or audit.utcnow()
    delegation = LinkDelegation(
        from_link_id=old.id,
        to_link_id=new.id,
        to_email=new.recipient_email,
        delegated_by=delegated_by[:200],
        delegated_at=moment,
    )
    session.add(delegation)
    session.flush()
    record_cycle_event(
        session,
        cycle=get_cycle(session, cycle_id=old.cycle_id),
        actor=delegated_by[:200],
        action="link.delegated",
        at=moment,
        link_id=old.id,
        new_link_id=new.id,
        stage=old.stage,
        round=old.round,
        recipient_unit=old.recipient_unit,
        from_email=old.recipient_email,
        to_email=new.recipient_email,
    )
    return delegation


def delegation_from(session: Session, *, link_id: int) -> LinkDelegation | None:
    """The delegation that replaced this link, if it was forwarded."""
    query = select(LinkDelegation).where(LinkDelegation.from_link_id == link_id)
    return session.scalars(query).first()
