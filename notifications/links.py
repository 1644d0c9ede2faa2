"""Signed, prefetch-safe links in mail: `{DUYET_PUBLIC_BASE_URL}/r/{token}`, stored only hashed.

A token is `<random>.<mac>`: 32 base64url characters (192 bits) and a 22-character
HMAC-SHA256 over the random part and what the link is bound to (cycle, stage, round,
recipient unit, document sha256). The random part is itself an HMAC of the secret, the
mail's idempotency key and the binding, so a queued mail keeps a slot, never the token:
the sender derives the token again when it delivers, and nobody reading the database
(outbox bodies included) holds a usable link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from duyet.messages import LINK_CHECKS
from duyet.settings import Settings
from records import audit
from records.models import LinkToken
from records.models import Mail as OutboxMail
from records.tokens import hash_token, issue_token, token_state

RANDOM_CHARS = 32
MAC_CHARS = 22  # 132 bits
TOKEN_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{{RANDOM_CHARS}}}\.[A-Za-z0-9_-]{{{MAC_CHARS}}}")
SLOT_PATTERN = re.compile(r"⟦lien-ket:(\d+)⟧")


class LinkOutcome(StrEnum):
    VALID = "valid"
    MALFORMED = "malformed"  # not the shape of a token (truncated, padded…): no lookup made
    UNKNOWN = "unknown"  # no such token (tampered, or never issued)
    FORGED = "forged"  # the stored binding is not what the token was signed for
    EXPIRED = "expired"
    REVOKED = "revoked"
    USED = "used"


@dataclass(frozen=True)
class LinkCheck:
    """What `check_link` found; `link` only when the token is genuine."""

    outcome: LinkOutcome
    link: LinkToken | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is LinkOutcome.VALID

    @property
    def message(self) -> str:
        return LINK_CHECKS[self.outcome]


@dataclass(frozen=True)
class Binding:
    """What a link is for; the MAC covers all of it."""

    cycle_id: str
    stage: str
    round: int
    recipient_unit: str
    document_sha256: str

    @classmethod
    def of(cls, link: LinkToken) -> Binding:
        return cls(link.cycle_id, link.stage, link.round, link.recipient_unit, link.document_sha256)

    def message(self) -> str:
        parts = (self.cycle_id, self.stage, str(self.round), self.recipient_unit)
        return "|".join((*parts, self.document_sha256))


class LinkMismatch(Exception):
    """A slot in a queued mail does not derive the stored token (e.g. the secret changed)."""


def make_token(secret: bytes, binding: Binding, *, seed: str) -> str:
    """The token of the link bound to `binding` in the mail whose idempotency key is `seed`."""
    random = _b64(_mac(_subkey(secret, "random"), f"{seed}|{binding.message()}"))[:RANDOM_CHARS]
    return f"{random}.{sign(secret, random, binding)}"


def sign(secret: bytes, random: str, binding: Binding) -> str:
    """The MAC part of a token."""
    return _b64(_mac(_subkey(secret, "mac"), f"{random}|{binding.message()}"))[:MAC_CHARS]


def link_url(settings: Settings, raw_token: str) -> str:
    """The only way a link is built: from settings, never from a request's Host header."""
    return f"{settings.require_public_base_url()}/r/{raw_token}"


def link_expiry(deadline: date, *, settings: Settings, now: datetime) -> datetime:
    """End of the deadline day (or of today, if later) in the office's zone, plus the grace days."""
    zone = ZoneInfo(settings.timezone)
    last_day = max(deadline, now.astimezone(zone).date())
    end = datetime.combine(last_day + timedelta(days=1 + settings.link_grace_days), time(), zone)
    return end.astimezone(UTC)


def issue_link(
    session: Session,
    *,
    settings: Settings,
    seed: str,
    binding: Binding,
    recipient_email: str,
    deadline: date,
    actor: str,
    now: datetime,
) -> int:
    """Record the link (hashed) in the caller's transaction; return its id for a mail slot."""
    raw = make_token(settings.require_secret(), binding, seed=seed)
    issue_token(
        session,
        cycle_id=binding.cycle_id,
        stage=binding.stage,
        round=binding.round,
        recipient_unit=binding.recipient_unit,
        recipient_email=recipient_email,
        document_sha256=binding.document_sha256,
        expires_at=link_expiry(deadline, settings=settings, now=now),
        actor=actor,
        now=now,
        raw_token=raw,
    )
    found = session.scalars(select(LinkToken.id).where(LinkToken.token_hash == hash_token(raw)))
    return found.one()


def slot(link_id: int) -> str:
    """What a queued mail holds where the link goes."""
    return f"⟦lien-ket:{link_id}⟧"


def resolve_links(session: Session, *, settings: Settings, mail: OutboxMail) -> dict[int, str]:
    """The URL of every slot in a queued mail, derived again from the secret."""
    urls: dict[int, str] = {}
    secret = settings.require_secret()
    for body in (mail.text_body, mail.html_body or ""):
        for match in SLOT_PATTERN.finditer(body):
            link_id = int(match.group(1))
            link = session.get(LinkToken, link_id)
            if link is None:
                raise LinkMismatch(f"link {link_id} of mail {mail.id} does not exist")
            raw = make_token(secret, Binding.of(link), seed=mail.idempotency_key)
            if not hmac.compare_digest(hash_token(raw), link.token_hash):
                raise LinkMismatch(f"link {link_id} is not one of mail {mail.id}'s")
            urls[link_id] = link_url(settings, raw)
    return urls


def fill_slots(body: str, urls: Mapping[int, str], *, html_body: bool) -> str:
    """`body` with each slot replaced by its URL (HTML-escaped in HTML)."""

    def url(match: re.Match[str]) -> str:
        found = urls[int(match.group(1))]
        return html.escape(found, quote=True) if html_body else found

    return SLOT_PATTERN.sub(url, body)


# Built once: the statement costs as much to build as to run (see records.cycle_reads._CYCLE).
_BY_HASH = select(LinkToken).where(LinkToken.token_hash == bindparam("token_hash"))


def check_link(
    session: Session, *, secret: bytes, raw_token: str, now: datetime | None = None
) -> LinkCheck:
    """Whether a presented token may be used now. Reads only: it never decides anything.

    Only `records.tokens.consume_token` / `records.decisions.decide_by_token` (on a POST)
    use a link; `records.tokens.log_opened` logs an opening (a page's GET).
    """
    if TOKEN_PATTERN.fullmatch(raw_token) is None:
        return LinkCheck(LinkOutcome.MALFORMED)
    link = session.scalars(_BY_HASH, {"token_hash": hash_token(raw_token)}).first()
    if link is None:
        return LinkCheck(LinkOutcome.UNKNOWN)
    random, mac = raw_token.split(".")
    if not hmac.compare_digest(mac, sign(secret, random, Binding.of(link))):
        return LinkCheck(LinkOutcome.FORGED)
    state = token_state(link, now=now or audit.utcnow())
    return LinkCheck(LinkOutcome(state), link)


def _subkey(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"duyet/link/{purpose}".encode(), hashlib.sha256).digest()


def _mac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
