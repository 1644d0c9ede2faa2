"""Reviewers' link tokens: issued once, stored hashed, opened any number of times, used once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from definitions.stage_rules import Stage
from records import audit
from records.cycle_reads import get_cycle
from records.cycles import record_cycle_event, require_at
from records.errors import NoDocument, TokenExpired, TokenRevoked, TokenUnknown, TokenUsed
from records.models import Decision, DocumentVersion, LinkToken, ReviewCycle

# The document a round-1 draft link is bound to: none exists yet (no sha256 is all zeros).
NO_DOCUMENT = "0" * 64


def hash_token(raw_token: str) -> str:
    """What is stored of a token: its sha256, never the token."""
    return hashlib.sha256(raw_token.encode()).hexdigest()


def token_state(token: LinkToken, *, now: datetime) -> str:
    """`used`, `revoked`, `expired` or `valid`."""
    if token.used_at is not None:
        return "used"
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at <= now else "valid"


def issue_token(
    session: Session,
    *,
    cycle_id: str,
    stage: str,
    round: int,
    recipient_unit: str,
    recipient_email: str,
    document_sha256: str,
    expires_at: datetime,
    actor: str,
    now: datetime | None = None,
    raw_token: str | None = None,
) -> str:
    """Create a link for one recipient at the cycle's current stage and round; return the token.

    `raw_token` lets the caller choose the token (e.g. a signed one); by default it is random.
    A draft link may be bound to `NO_DOCUMENT` while the cycle has no version yet.
    """
    audit.lock(session)
    cycle = get_cycle(session, cycle_id=cycle_id)
    require_at(cycle, stage=stage, round=round)
    if not (stage == Stage.DRAFT and document_sha256 == NO_DOCUMENT):
        known = select(DocumentVersion.id).where(
            DocumentVersion.cycle_id == cycle_id, DocumentVersion.sha256 == document_sha256
        )
        if session.scalars(known).first() is None:
            raise NoDocument()
    if raw_token is None:
        raw_token = secrets.token_urlsafe(32)
    elif len(raw_token) < 22:  # 128 bits in base64url
        raise ValueError("a link token needs at least 128 bits")
    moment = now or audit.utcnow()
    token = LinkToken(
        token_hash=hash_token(raw_token),
        cycle_id=cycle_id,
        stage=stage,
        round=round,
        recipient_unit=recipient_unit,
        recipient_email=recipient_email,
        document_sha256=document_sha256,
        issued_at=moment,
        expires_at=expires_at,
        used_at=None,
        revoked_at=None,
    )
    session.add(token)
    session.flush()
    record_cycle_event(
        session,
        cycle=cycle,
        actor=actor,
        action="link.issued",
        at=moment,
        link_id=token.id,
        stage=stage,
        round=round,
        recipient_unit=recipient_unit,
        recipient_email=recipient_email,
        document_sha256=document_sha256,
        expires_at=expires_at,
    )
    return raw_token


def lookup_token(
    session: Session,
    *,
    raw_token: str,
    client_ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> LinkToken:
    """Find the token behind a GET and log `link.opened`; opening never decides anything."""
    audit.lock(session)
    token = _find(session, raw_token)
    cycle = get_cycle(session, cycle_id=token.cycle_id)
    log_opened(
        session, link=token, cycle=cycle, client_ip=client_ip, user_agent=user_agent, now=now
    )
    return token


def log_opened(
    session: Session,
    *,
    link: LinkToken,
    cycle: ReviewCycle,
    client_ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> None:
    """Log `link.opened` for a link and its cycle as the caller read them (a page's read, which
    may have been another transaction's: the event says what was shown)."""
    moment = now or audit.utcnow()
    record_cycle_event(
        session,
        cycle=cycle,
        actor=f"link:{link.recipient_unit}",
        action="link.opened",
        at=moment,
        link_id=link.id,
        stage=link.stage,
        round=link.round,
        state=token_state(link, now=moment),
        client_ip=client_ip,
        user_agent=user_agent,
    )


def consume_token(session: Session, *, raw_token: str, now: datetime | None = None) -> LinkToken:
    """Mark the token used, at most once even under concurrency (compare-and-set).

    The caller records the decision in the same transaction; its `decision.recorded` event
    names the link, so consuming writes no event of its own.
    """
    audit.lock(session)
    moment = now or audit.utcnow()
    token_hash = hash_token(raw_token)
    won = session.execute(
        update(LinkToken)
        .where(
            LinkToken.token_hash == token_hash,
            LinkToken.used_at.is_(None),
            LinkToken.revoked_at.is_(None),
            LinkToken.expires_at > moment,
        )
        .values(used_at=moment)
        .returning(LinkToken.id)
        .execution_options(synchronize_session=False)
    ).first()
    token = _find(session, raw_token)
    if won is not None:
        return token
    state = token_state(token, now=moment)
    if state == "used":
        raise TokenUsed(_decision_through(session, token.id))
    if state == "revoked":
        raise TokenRevoked()
    raise TokenExpired()


def revoke_token(
    session: Session, *, link_id: int, actor: str, reason: str, now: datetime | None = None
) -> LinkToken:
    """Withdraw an unused link (e.g. the unit delegated the review); no-op if already withdrawn."""
    audit.lock(session)
    token = session.get(LinkToken, link_id, populate_existing=True)
    if token is None:
        raise TokenUnknown()
    if token.used_at is not None:
        raise TokenUsed(_decision_through(session, link_id))
    if token.revoked_at is None:
        moment = now or audit.utcnow()
        token.revoked_at = moment
        session.flush()
        record_cycle_event(
            session,
            cycle=get_cycle(session, cycle_id=token.cycle_id),
            actor=actor,
            action="link.revoked",
            at=moment,
            link_id=token.id,
            stage=token.stage,
            round=token.round,
            recipient_unit=token.recipient_unit,
            reason=reason,
        )
    return token


def links_of_cycle(session: Session, *, cycle_id: str) -> list[LinkToken]:
    """Every link issued for a cycle, oldest first."""
    query = select(LinkToken).where(LinkToken.cycle_id == cycle_id)
    return list(session.scalars(query.order_by(LinkToken.id)))


def _find(session: Session, raw_token: str) -> LinkToken:
    token = session.scalars(
        select(LinkToken)
        .where(LinkToken.token_hash == hash_token(raw_token))
        .execution_options(populate_existing=True)
    ).first()
    if token is None:
        raise TokenUnknown()
    return token


def _decision_through(session: Session, link_id: int) -> Decision | None:
    return session.scalars(select(Decision).where(Decision.token_id == link_id)).first()
