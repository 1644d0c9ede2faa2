"""What a reviewer sends back through a link: a decision, the next document version, or a
forward to a colleague. One transaction each; the router resumes the flow run after the commit.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import unicodedata
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from definitions.stage_rules import Stage, Verdict
from duyet.definition_files import Definitions, units_of_cycle
from duyet.messages import LINK_CHECKS, PORTAL, STAGES
from duyet.responses import LinkRefused, WrongAnswer, decide, submit
from duyet.settings import Settings
from notifications.forwarding import delegate_link
from notifications.links import LinkOutcome, check_link
from portal.deps import Client
from portal.errors import status_of
from portal.linkview import GENUINE, LinkPage, decisions_at, not_found, notice, refusal
from portal.security import LINK_FORM_MAX_AGE, Keys, link_binding
from portal.shown import attachment_rule, decision_view, version_view
from publishing.skeleton import PLACEHOLDER
from records.cycle_reads import get_cycle
from records.decisions import Attachment
from records.engine import session_scope
from records.errors import AlreadyDecided, RecordError, TokenUsed
from records.models import LinkToken
from records.plans import plan_line

UNNAMED = "tai-lieu"  # a file name with nothing left once cleaned
NAME_CATEGORIES = {"Cc": " ", "Cf": ""}  # control characters: a space; invisible ones: nothing
VERDICT_OF = {
    "approve": Verdict.APPROVE,
    "request_changes": Verdict.CHANGES,
    "reject": Verdict.REJECT,
}


@dataclass(frozen=True)
class Upload:
    content: bytes
    filename: str
    media_type: str

    @classmethod
    def of(cls, content: bytes, filename: str, content_type: str | None) -> Upload:
        name = safe_filename(filename)
        declared = (content_type or "").split(";")[0].strip().lower()
        # A known extension decides: it is what the download is saved as, so a program sent as
        # "text/plain" is still refused.
        guessed, encoding = mimetypes.guess_type(name)
        if encoding is not None:  # "du-thao.txt.gz" is a gzip file, not text
            guessed = "application/octet-stream"
        media_type = guessed or declared or "application/octet-stream"
        return cls(content, name, media_type)


def safe_filename(filename: str) -> str:
    """The last segment of a client's file name, kept as a label only: no path, no control or
    invisible characters (a newline would split the download's header, U+202E disguise the
    extension)."""
    name = unicodedata.normalize("NFC", filename.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(NAME_CATEGORIES.get(unicodedata.category(c), c) for c in name)
    return " ".join(name.split()).strip(" .")[:255] or UNNAMED


@dataclass(frozen=True)
class Answer:
    csrf: str
    decision: str
    comment: str = ""
    person: str = ""
    text: str = ""
    upload: Upload | None = None


@dataclass(frozen=True)
class Recorded:
    """The answer is committed: the receipt to show, the cycle whose run to resume."""

    cycle_id: str
    receipt: LinkPage


def _attachment(
    session: Session, defs: Definitions, link: LinkToken, upload: Upload | None
) -> Attachment | LinkPage | None:
    """The report the stage asks for, from the form; a 400 page when it is required and absent."""
    rule = attachment_rule(defs, get_cycle(session, cycle_id=link.cycle_id), link.stage)
    if rule is None:
        return None  # a file sent to a stage that asks for none is ignored, never stored
    if upload is None:
        if rule.required:
            return notice(
                400, PORTAL["bad-request"], PORTAL["no-attachment"].format(name=rule.name)
            )
        return None
    return Attachment(upload.content, upload.filename, upload.media_type)


def record_answer(
    settings: Settings,
    defs: Definitions,
    keys: Keys,
    *,
    raw_token: str,
    answer: Answer,
    client: Client,
    now: dt.datetime | None = None,
) -> Recorded | LinkPage:
    """Check the link and the form, record the answer; a page saying why not otherwise."""
    moment = now or dt.datetime.now(dt.UTC)
    zone = ZoneInfo(settings.timezone)
    try:
        with session_scope(settings.database_url) as session:
            link = _usable(session, settings, defs, keys, raw_token, answer.csrf, moment)
            if isinstance(link, LinkPage):
                return link
            if answer.decision not in decisions_at(link.stage):
                stage = STAGES.get(link.stage, link.stage)
                detail = PORTAL["wrong-decision"].format(decision=answer.decision, stage=stage)
                return notice(400, PORTAL["bad-request"], detail)
            person = answer.person.strip() or None
            if link.stage == Stage.DRAFT:
                upload = answer.upload or _typed(answer.text, link.round)
                if upload is None:
                    return notice(400, PORTAL["bad-request"], PORTAL["no-document"])
                if answer.upload is None and PLACEHOLDER in answer.text:
                    return notice(400, PORTAL["bad-request"], PORTAL["skeleton-unfilled"])
                version = submit(
                    session,
                    settings,
                    raw_token=raw_token,
                    content=upload.content,
                    filename=upload.filename,
                    media_type=upload.media_type,
                    person=person,
                    now=moment,
                )
                shown = version_view(version, zone) | {"label": PORTAL["decision.submit"]}
            else:
                attachment = _attachment(session, defs, link, answer.upload)
                if isinstance(attachment, LinkPage):
                    return attachment
                decision = decide(
                    session,
                    settings,
                    raw_token=raw_token,
                    verdict=VERDICT_OF[answer.decision],
                    comment=answer.comment.strip(),
                    person=person,
                    client_ip=client.ip,
                    user_agent=client.user_agent,
                    attachment=attachment,
                    now=moment,
                )
                directory = units_of_cycle(session, defs, cycle_id=link.cycle_id)
                shown = decision_view(decision, directory, zone)
                shown["label"] = PORTAL[f"decision.{answer.decision}"]
            context = _receipt(session, link) | {"receipt": shown}
            return Recorded(link.cycle_id, LinkPage(200, "receipt.html.j2", context))
    except LinkRefused as refused:  # lost a race with another answer or a revocation
        return notice(_STATUS[refused.check.outcome], refused.check.message)
    except WrongAnswer:
        return notice(400, PORTAL["bad-request"])
    except (TokenUsed, AlreadyDecided) as error:
        return notice(409, LINK_CHECKS["used"], error.message)
    except RecordError as error:
        return notice(status_of(error), PORTAL["bad-request"], error.message)


def forward(
    settings: Settings,
    defs: Definitions,
    keys: Keys,
    *,
    raw_token: str,
    csrf: str,
    email: str,
    person: str,
    now: dt.datetime | None = None,
) -> LinkPage:
    """Send the link's request to a colleague of the same unit; this link dies."""
    moment = now or dt.datetime.now(dt.UTC)
    try:
        with session_scope(settings.database_url) as session:
            link = _usable(session, settings, defs, keys, raw_token, csrf, moment)
            if isinstance(link, LinkPage):
                return link
            new = delegate_link(
                session,
                settings=settings,
                directory=units_of_cycle(session, defs, cycle_id=link.cycle_id),
                link_id=link.id,
                to_email=email,
                person=person.strip() or None,
                now=moment,
            )
            return notice(200, PORTAL["delegated"].format(email=new.recipient_email))
    except RecordError as error:
        return notice(status_of(error), PORTAL["bad-request"], error.message)


_STATUS = {
    LinkOutcome.MALFORMED: 404,
    LinkOutcome.UNKNOWN: 404,
    LinkOutcome.FORGED: 404,
    LinkOutcome.EXPIRED: 410,
    LinkOutcome.REVOKED: 410,
    LinkOutcome.USED: 409,
    LinkOutcome.VALID: 409,
}


def _usable(
    session: Session,
    settings: Settings,
    defs: Definitions,
    keys: Keys,
    raw_token: str,
    csrf: str,
    now: dt.datetime,
) -> LinkToken | LinkPage:
    """The link, if it is genuine, the form is its own (CSRF) and it can be used now."""
    check = check_link(session, secret=settings.require_secret(), raw_token=raw_token, now=now)
    if check.outcome not in GENUINE or check.link is None:
        return not_found()
    if not keys.csrf_ok(csrf, link_binding(raw_token), max_age=LINK_FORM_MAX_AGE):
        return notice(403, PORTAL["csrf"], PORTAL["csrf.detail"])
    directory = units_of_cycle(session, defs, cycle_id=check.link.cycle_id)
    refused = refusal(session, settings=settings, directory=directory, check=check)
    return refused if refused is not None else check.link


def _typed(text: str, round: int) -> Upload | None:
    body = text.replace("\r\n", "\n").strip()
    if not body:
        return None
    return Upload((body + "\n").encode("utf-8"), f"du-thao-vong-{round}.txt", "text/plain")


def _receipt(session: Session, link: LinkToken) -> dict[str, Any]:
    cycle = get_cycle(session, cycle_id=link.cycle_id)
    line = plan_line(
        session, plan_key=cycle.plan_key, code=cycle.line_code, version=cycle.plan_version
    )
    return {
        "line": {"code": line.code, "title": line.title},
        "stage": link.stage,
        "round": link.round,
    }
