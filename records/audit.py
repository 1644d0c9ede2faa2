"""The audit chain: append one hashed event per state change, and verify the whole chain."""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, SessionTransaction

from records.models import AuditEvent

GENESIS = "0" * 64
# Key of the PostgreSQL advisory lock that serialises writers (arbitrary, fixed: "duyet" in ASCII).
AUDIT_LOCK_KEY = 0x6475796574
HEAD = "duyet.audit.head"  # in `Session.info`: the chain's head as the last append left it


def canonical_json(value: Any) -> str:
    """The one JSON spelling of `value` that is hashed: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_jsonable,
    )


def jsonable(value: Any) -> Any:
    """`value` as plain JSON data (dates become ISO strings)."""
    return json.loads(canonical_json(value))


def utc_iso(moment: datetime) -> str:
    """The stored and hashed spelling of a time: UTC, microseconds, `+00:00`."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def utcnow() -> datetime:
    return datetime.now(UTC)


def lock(session: Session) -> None:
    """Serialise writers for the rest of the transaction (SQLite: `BEGIN IMMEDIATE` already does).

    Repository functions call this before their first read, so that writers queue in one
    order and never wait on each other's rows while holding the chain (no deadlocks).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    payload: dict[str, Any],
    at: datetime | None = None,
) -> AuditEvent:
    """Add the next event of the chain to the caller's transaction."""
    seq, prev_hash = _next(session)
    event = AuditEvent(
        seq=seq,
        at=utc_iso(at or utcnow()),
        actor=actor,
        action=action,
        subject=subject,
        payload=canonical_json(payload),
        prev_hash=prev_hash,
    )
    event.hash = entry_hash(event)
    session.add(event)
    session.flush()
    session.info[HEAD] = (weakref.ref(_innermost(session)), event.seq, event.hash)
    return event


def _next(session: Session) -> tuple[int, str]:
    """The next event's seq and the hash it chains to. Read (under the writers' lock) at the
    first append of a transaction or savepoint; known from the one before for the next ones of
    the same, which holds the lock already (a batch of openings: one read, not one each)."""
    known = session.info.get(HEAD)
    if known is not None and known[0]() is _innermost(session):
        return known[1] + 1, known[2]
    lock(session)
    head = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (head.seq + 1, head.hash) if head else (1, GENESIS)


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def entry_hash(event: AuditEvent) -> str:
    """sha256 over `prev_hash` and the canonical JSON of the entry."""
    entry = {
        "seq": event.seq,
        "at": event.at,
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "payload": json.loads(event.payload),
    }
    return hashlib.sha256((event.prev_hash + canonical_json(entry)).encode()).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first place the chain does not hold: `reason` is a code of `AUDIT_BREAKS`."""

    seq: int
    reason: str
    params: dict[str, Any]


@dataclass(frozen=True)
class ChainReport:
    """`entries` verified in order, `head` the hash of the last of them, `broken` where it stops."""

    entries: int
    head: str | None
    broken: Break | None

    @property
    def intact(self) -> bool:
        return self.broken is None


@dataclass(frozen=True)
class Anchor:
    """Entry `seq` of the chain had hash `hash`, as witnessed outside the records at `at`.

    A chain is unkeyed: whoever can write the records could rewrite it consistently from any
    entry on, or cut its tail. An anchor kept elsewhere (the Prefect server's artifacts, a
    printed report) shows both: the entry at its seq no longer has its hash, or is gone.
    """

    seq: int
    hash: str
    at: str = ""


def head(session: Session) -> Anchor | None:
    """The last entry of the chain, as an anchor to keep elsewhere."""
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return Anchor(last.seq, last.hash, last.at) if last is not None else None


def verify(
    session: Session, *, expect_head: str | None = None, anchors: Sequence[Anchor] = ()
) -> ChainReport:
    """Walk the chain from seq 1 and report the first broken entry, if any."""
    with closing(events(session)) as chain:
        return _walk(chain, expect_head, {anchor.seq: anchor for anchor in anchors})


def _walk(
    chain: Iterator[AuditEvent], expect_head: str | None, anchors: dict[int, Anchor]
) -> ChainReport:
    count, head, found_head = 0, None, expect_head is None
    for event in chain:
        reason = _fault(event, seq=count + 1, prev_hash=head or GENESIS)
        if reason is not None:
            params = {"found": event.seq} if reason == "inserted" else {}
            return ChainReport(count, head, Break(count + 1, reason, params))
        anchor = anchors.get(event.seq)
        if anchor is not None and anchor.hash != event.hash:
            return ChainReport(count, head, Break(event.seq, "anchor", {"at": anchor.at}))
        count, head = count + 1, event.hash
        found_head = found_head or head == expect_head
    beyond = [anchor for seq, anchor in sorted(anchors.items()) if seq > count]
    if beyond:
        last = beyond[-1]
        cut = Break(count + 1, "anchor-beyond", {"last": count, "seq": last.seq, "at": last.at})
        return ChainReport(count, head, cut)
    if not found_head:
        return ChainReport(count, head, Break(count + 1, "truncated", {"last": count}))
    return ChainReport(count, head, None)


def _fault(event: AuditEvent, *, seq: int, prev_hash: str) -> str | None:
    """Why `event` cannot be entry `seq` following `prev_hash`, or None if it can."""
    if event.seq != seq:
        return "missing" if event.seq > seq else "inserted"
    if event.prev_hash != prev_hash:
        return "prev-hash"
    try:
        if canonical_json(json.loads(event.payload)) != event.payload:
            return "payload"
    except ValueError:
        return "payload"
    return "hash" if entry_hash(event) != event.hash else None


def events(session: Session) -> Generator[AuditEvent, None, None]:
    """Every event in chain order, streamed (close the iterator if you stop early)."""
    result = session.scalars(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=500)
    )
    try:
        yield from result
    finally:
        result.close()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON data")
