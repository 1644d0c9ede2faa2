"""The mail outbox: idempotent enqueueing, delivery bookkeeping, what is due to send."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from records import audit
from records.cycle_reads import get_cycle
from records.cycles import cycle_ref
from records.errors import MailUnknown
from records.models import Mail


def mail_key(
    *,
    cycle_id: str | None,
    stage: str,
    round: int,
    recipient: str,
    kind: str,
    variant: str | None = None,
) -> str:
    """The idempotency key: one mail of a kind per recipient per cycle, stage and round.

    `variant` tells apart several mails of one kind there (the reminder 3 days before, 1 day…).
    """
    kind_key = f"{kind}:{variant}" if variant else kind
    return f"{cycle_id or '-'}/{stage}/r{round}/{recipient}/{kind_key}"


def find_mail(session: Session, *, idempotency_key: str) -> Mail | None:
    """The row queued under this key, if any."""
    return session.scalars(select(Mail).where(Mail.idempotency_key == idempotency_key)).first()


def enqueue_mail(
    session: Session,
    *,
    cycle_id: str | None,
    stage: str,
    round: int,
    recipient: str,
    kind: str,
    to_addr: str,
    subject: str,
    text: str,
    html: str | None,
    message_domain: str,
    actor: str,
    attachments: Sequence[Mapping[str, Any]] = (),
    now: datetime | None = None,
    variant: str | None = None,
) -> Mail:
    """Queue a mail once: the same key again returns the queued row and logs nothing."""
    audit.lock(session)
    key = mail_key(
        cycle_id=cycle_id, stage=stage, round=round, recipient=recipient, kind=kind, variant=variant
    )
    existing = find_mail(session, idempotency_key=key)
    if existing is not None:
        return existing
    cycle = get_cycle(session, cycle_id=cycle_id) if cycle_id else None
    moment = now or audit.utcnow()
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    mail = Mail(
        idempotency_key=key,
        message_id=f"<{digest}@{message_domain}>",
        cycle_id=cycle_id,
        kind=kind,
        stage=stage,
        round=round,
        recipient=recipient,
        to_addr=to_addr,
        subject=subject,
        text_body=text,
        html_body=html,
        attachments=[dict(item) for item in attachments],
        status="pending",
        attempts=0,
        next_attempt_at=moment,
        last_error=None,
        created_at=moment,
        sent_at=None,
    )
    session.add(mail)
    session.flush()
    _record(
        session,
        mail,
        actor=actor,
        action="mail.queued",
        at=moment,
        ref=cycle_ref(cycle) if cycle else {},
        idempotency_key=key,
        message_id=mail.message_id,
        kind=kind,
        stage=stage,
        round=round,
        recipient=recipient,
        to=to_addr,
        subject=subject,
    )
    return mail


def mark_sent(session: Session, *, mail_id: int, actor: str, now: datetime | None = None) -> Mail:
    """Record a successful delivery (no-op if already recorded)."""
    audit.lock(session)
    mail = get_mail(session, mail_id=mail_id)
    if mail.status == "sent":
        return mail
    moment = now or audit.utcnow()
    mail.status, mail.sent_at, mail.attempts = "sent", moment, mail.attempts + 1
    mail.last_error = None
    session.flush()
    _record(session, mail, actor=actor, action="mail.sent", at=moment, attempts=mail.attempts)
    return mail


def mark_failed(
    session: Session,
    *,
    mail_id: int,
    error: str,
    backoff: timedelta,
    max_attempts: int,
    actor: str,
    now: datetime | None = None,
) -> Mail:
    """Record a failed attempt: retry after `backoff`, or give up (`dead`) at `max_attempts`.

    A row no longer pending (sent meanwhile, or dead) is returned unchanged.
    """
    audit.lock(session)
    mail = get_mail(session, mail_id=mail_id)
    if mail.status != "pending":
        return mail
    moment = now or audit.utcnow()
    mail.attempts += 1
    mail.last_error = error
    if mail.attempts >= max_attempts:
        mail.status = "dead"
    else:
        mail.next_attempt_at = moment + backoff
    session.flush()
    _record(
        session,
        mail,
        actor=actor,
        action="mail.failed",
        at=moment,
        attempts=mail.attempts,
        status=mail.status,
        error=error,
        next_attempt_at=mail.next_attempt_at if mail.status == "pending" else None,
    )
    return mail


def retry_mail(session: Session, *, mail_id: int, actor: str, now: datetime | None = None) -> Mail:
    """Make a dead or pending row due now with a fresh count of attempts; a sent row is refused."""
    audit.lock(session)
    mail = get_mail(session, mail_id=mail_id)
    if mail.status == "sent":
        raise ValueError(f"mail {mail_id} was sent already")
    moment = now or audit.utcnow()
    previous = (mail.status, mail.attempts)
    mail.status, mail.attempts, mail.next_attempt_at = "pending", 0, moment
    session.flush()
    _record(
        session,
        mail,
        actor=actor,
        action="mail.retried",
        at=moment,
        previous_status=previous[0],
        previous_attempts=previous[1],
    )
    return mail


def claim_due(session: Session, *, now: datetime, lease: timedelta, limit: int) -> list[Mail]:
    """Take due rows for one sender: they are not due again until `now + lease`.

    A sender that dies holding a claim delays those rows by the lease, never loses them.
    Claims are bookkeeping, not state changes: no audit event.
    """
    audit.lock(session)
    ids = [mail.id for mail in due_mail(session, now=now, limit=limit)]
    if not ids:
        return []
    claimed = session.scalars(
        update(Mail)
        .where(Mail.id.in_(ids), Mail.status == "pending", Mail.next_attempt_at <= now)
        .values(next_attempt_at=now + lease)
        .returning(Mail.id)
        .execution_options(synchronize_session=False)
    ).all()
    rows = session.scalars(
        select(Mail).where(Mail.id.in_(claimed)).execution_options(populate_existing=True)
    )
    return sorted(rows, key=lambda mail: ids.index(mail.id))


def release_claims(
    session: Session, *, mail_ids: Collection[int], claimed_until: datetime, now: datetime
) -> int:
    """Make claimed rows that were not tried due again at `now`; return how many."""
    if not mail_ids:
        return 0
    audit.lock(session)
    released = session.scalars(
        update(Mail)
        .where(
            Mail.id.in_(list(mail_ids)),
            Mail.status == "pending",
            Mail.next_attempt_at == claimed_until,
        )
        .values(next_attempt_at=now)
        .returning(Mail.id)
        .execution_options(synchronize_session=False)
    ).all()
    return len(released)


def mail_by_status(
    session: Session, *, statuses: Collection[str], limit: int | None = None
) -> list[Mail]:
    """Rows in any of `statuses`, grouped by status, the next due first."""
    query = select(Mail).where(Mail.status.in_(list(statuses)))
    query = query.order_by(Mail.status, Mail.next_attempt_at, Mail.id)
    return list(session.scalars(query.limit(limit)))


def get_mail(session: Session, *, mail_id: int) -> Mail:
    """An outbox row as committed now; `MailUnknown` if absent."""
    mail = session.get(Mail, mail_id, populate_existing=True)
    if mail is None:
        raise MailUnknown(mail_id=mail_id)
    return mail


def due_mail(session: Session, *, now: datetime | None = None, limit: int = 100) -> list[Mail]:
    """Pending mail whose next attempt is due, oldest first."""
    query = (
        select(Mail)
        .where(Mail.status == "pending", Mail.next_attempt_at <= (now or audit.utcnow()))
        .order_by(Mail.next_attempt_at, Mail.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def _record(
    session: Session,
    mail: Mail,
    *,
    actor: str,
    action: str,
    at: datetime,
    ref: Mapping[str, Any] | None = None,
    **details: Any,
) -> None:
    if ref is None:
        cycle = get_cycle(session, cycle_id=mail.cycle_id) if mail.cycle_id else None
        ref = cycle_ref(cycle) if cycle else {}
    audit.append(
        session,
        actor=actor,
        action=action,
        subject=f"mail:{mail.id}",
        payload={**ref, "mail_id": mail.id, **details},
        at=at,
    )
