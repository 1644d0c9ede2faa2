"""What people send back through the links in their mail: a decision, or a document version.

Each call checks the link (signature, expiry, single use) and records the answer in the
caller's transaction. Resuming the flow run comes after the commit (`flows.control`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from definitions.stage_rules import Stage, Verdict
from duyet.settings import Settings
from notifications.links import LinkCheck, check_link
from records.decisions import Attachment, decide_by_token
from records.documents import submit_version
from records.models import Decision, DocumentVersion, LinkToken
from records.tokens import consume_token


class LinkRefused(Exception):
    """The link cannot be used: malformed, unknown, forged, expired, revoked or used."""

    def __init__(self, check: LinkCheck) -> None:
        self.check = check
        super().__init__(check.outcome.value)


class WrongAnswer(Exception):
    """A decision sent to a draft link, or a document to a review link."""


def valid_link(
    session: Session, settings: Settings, raw_token: str, now: datetime | None
) -> LinkToken:
    check = check_link(session, secret=settings.require_secret(), raw_token=raw_token, now=now)
    if not check.ok or check.link is None:
        raise LinkRefused(check)
    return check.link


def decide(
    session: Session,
    settings: Settings,
    *,
    raw_token: str,
    verdict: Verdict,
    comment: str,
    person: str | None = None,
    client_ip: str | None = None,
    user_agent: str | None = None,
    attachment: Attachment | None = None,
    now: datetime | None = None,
) -> Decision:
    """Record the decision a review or approval link was issued for (with the report the stage
    asks for, if any)."""
    link = valid_link(session, settings, raw_token, now)
    if link.stage == Stage.DRAFT:
        raise WrongAnswer("a draft link takes a document, not a decision")
    return decide_by_token(
        session,
        raw_token=raw_token,
        verdict=verdict,
        comment=comment,
        reviewer_person=person,
        client_ip=client_ip,
        user_agent=user_agent,
        attachment=attachment,
        max_bytes=settings.max_document_bytes,
        now=now,
    )


def submit(
    session: Session,
    settings: Settings,
    *,
    raw_token: str,
    content: bytes,
    filename: str,
    media_type: str,
    person: str | None = None,
    now: datetime | None = None,
) -> DocumentVersion:
    """Put up the next document version through the lead unit's draft link."""
    link = valid_link(session, settings, raw_token, now)
    if link.stage != Stage.DRAFT:
        raise WrongAnswer("only a draft link takes a document")
    with session.begin_nested():
        consume_token(session, raw_token=raw_token, now=now)
        return submit_version(
            session,
            cycle_id=link.cycle_id,
            content=content,
            filename=filename,
            media_type=media_type,
            submitted_by=f"link:{link.recipient_unit}" + (f" ({person})" if person else ""),
            max_bytes=settings.max_document_bytes,
            now=now,
        )
