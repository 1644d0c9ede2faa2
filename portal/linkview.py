"""What a reviewer's link shows: why it cannot be used (404, 410, 409), or the document and the
form. Reads only; `log_opening` writes a GET's `link.opened` afterwards, with the link and cycle
as the page read them (the portal group-commits it, `records.grouped`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from definitions.stage_rules import Stage, kind_of
from definitions.units import UnitDirectory
from duyet.definition_files import Definitions
from duyet.messages import LINK_CHECKS, PORTAL, STAGES
from duyet.settings import Settings
from notifications.links import LinkCheck, LinkOutcome, check_link
from portal.deps import Client
from portal.security import Keys, link_binding
from portal.shown import (
    attachment_rule,
    decision_view,
    diff_of,
    document_view,
    skeleton,
    version_view,
)
from records.cycle_reads import get_cycle
from records.decisions import decisions_of_cycle
from records.delegations import delegation_from
from records.documents import versions_of_cycle
from records.models import Decision, DocumentVersion, LinkToken, ReviewCycle
from records.plans import line_values
from records.tokens import log_opened

_DECISIONS: dict[Stage, tuple[str, ...]] = {
    Stage.DRAFT: ("submit",),
    Stage.REVIEW: ("approve", "request_changes"),
    Stage.APPROVAL: ("approve", "reject"),
}


def decisions_at(stage: str) -> tuple[str, ...]:
    """What a link at stage key `stage` may answer."""
    return _DECISIONS.get(kind_of(stage), ())


GENUINE = {LinkOutcome.VALID, LinkOutcome.EXPIRED, LinkOutcome.REVOKED, LinkOutcome.USED}


@dataclass(frozen=True)
class LinkPage:
    status: int
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    genuine: bool = False  # the page of a link we issued, whose opening a GET logs
    opened: tuple[LinkToken, ReviewCycle] | None = None  # that link and its cycle, as read


def notice(status: int, title: str, detail: str = "", **extra: Any) -> LinkPage:
    context = {"title": title, "detail": detail, "decided": None, "version": None} | extra
    return LinkPage(status, "message.html.j2", context)


def not_found() -> LinkPage:
    return notice(404, LINK_CHECKS["unknown"], PORTAL["link-invalid.detail"])


@dataclass(frozen=True)
class Seen:
    """What a link's page reads of its cycle, each read once: the cycle as committed now, its
    document versions by round and its decisions in the order made (a cycle has few of each)."""

    cycle: ReviewCycle
    versions: dict[int, DocumentVersion]
    decisions: list[Decision]

    @classmethod
    def read(cls, session: Session, cycle_id: str) -> Seen:
        versions = {v.round: v for v in versions_of_cycle(session, cycle_id=cycle_id)}
        decisions = decisions_of_cycle(session, cycle_id=cycle_id)
        return cls(get_cycle(session, cycle_id=cycle_id), versions, decisions)

    def decision_of(self, link: LinkToken) -> Decision | None:
        """What the link's unit decided at the link's stage and round (through it, or another)."""
        through = (d for d in self.decisions if d.token_id == link.id)
        same = (
            d
            for d in self.decisions
            if (d.stage, d.round, d.reviewer_unit) == (link.stage, link.round, link.recipient_unit)
        )
        return next(through, None) or next(same, None)

    def answered(self, link: LinkToken) -> bool:
        if link.stage == Stage.DRAFT:
            return link.round in self.versions
        return self.decision_of(link) is not None


def open_link(
    session: Session,
    *,
    settings: Settings,
    defs: Definitions,
    keys: Keys,
    raw_token: str,
    now: dt.datetime,
) -> LinkPage:
    """The page of a link, read only (a read-only transaction will do)."""
    check = check_link(session, secret=settings.require_secret(), raw_token=raw_token, now=now)
    if check.outcome not in GENUINE or check.link is None:
        return not_found()
    seen = Seen.read(session, check.link.cycle_id)
    directory = defs.units(seen.cycle.plan_key)
    shown = refusal(session, settings=settings, directory=directory, check=check, seen=seen)
    shown = shown or form_page(session, settings, defs, keys, check.link, raw_token, seen)
    return replace(shown, genuine=True, opened=(check.link, seen.cycle))


def log_opening(session: Session, *, shown: LinkPage, client: Client, now: dt.datetime) -> None:
    """Write the GET of a genuine link's page to the audit chain (`link.opened`), with the link
    and cycle as the page read them."""
    assert shown.opened is not None
    link, cycle = shown.opened
    log_opened(
        session, link=link, cycle=cycle, client_ip=client.ip, user_agent=client.user_agent, now=now
    )


def refusal(
    session: Session,
    *,
    settings: Settings,
    directory: UnitDirectory,
    check: LinkCheck,
    seen: Seen | None = None,
) -> LinkPage | None:
    """Why a genuine link cannot be used now, as a page; None if it can."""
    link = check.link
    if link is None:
        return not_found()
    zone = ZoneInfo(settings.timezone)
    if check.outcome is LinkOutcome.EXPIRED:
        office = directory.unit(directory.roles.office).email
        return notice(410, check.message, PORTAL["link-expired.detail"].format(office_email=office))
    seen = seen or Seen.read(session, link.cycle_id)
    if check.outcome is LinkOutcome.REVOKED:
        detail = PORTAL["link-revoked.detail"].format(why=_why(session, link, seen.cycle, zone))
        return notice(410, check.message, detail)
    if check.outcome is LinkOutcome.USED:
        return answered(seen, link, directory, zone, PORTAL["link-used.detail"], check.message)
    cycle = seen.cycle
    if cycle.status != "open" or (cycle.stage, cycle.round) != (link.stage, link.round):
        stage = STAGES.get(link.stage, link.stage)
        detail = PORTAL["stage-closed.detail"].format(stage=stage, round=link.round)
        return notice(409, PORTAL["stage-closed"], detail)
    if seen.answered(link):
        return answered(
            seen, link, directory, zone, PORTAL["unit-decided.detail"], PORTAL["unit-decided"]
        )
    return None


def answered(
    seen: Seen,
    link: LinkToken,
    directory: UnitDirectory,
    zone: ZoneInfo,
    detail: str,
    title: str,
) -> LinkPage:
    """409: what the unit already answered at the link's stage and round."""
    if link.stage == Stage.DRAFT:
        version = seen.versions.get(link.round)
        shown = version_view(version, zone) if version else None
        return notice(409, title, detail, version=shown)
    decision = seen.decision_of(link)
    shown = decision_view(decision, directory, zone) if decision else None
    return notice(409, title, detail, decided=shown)


def form_page(
    session: Session,
    settings: Settings,
    defs: Definitions,
    keys: Keys,
    link: LinkToken,
    raw_token: str,
    seen: Seen,
) -> LinkPage:
    """200: the line, the stage, the document, what changed, others' comments and the form."""
    zone = ZoneInfo(settings.timezone)
    cycle = seen.cycle
    line = line_values(
        session, plan_key=cycle.plan_key, code=cycle.line_code, version=cycle.plan_version
    )
    shown_round = link.round - 1 if link.stage == Stage.DRAFT else link.round
    version = seen.versions.get(shown_round)
    previous = seen.versions.get(shown_round - 1)
    directory = defs.units(cycle.plan_key)
    unit = directory.unit(link.recipient_unit)
    context = {
        "token": raw_token,
        "csrf": keys.csrf_token(link_binding(raw_token)),
        "line": {
            "code": line["code"],
            "title": line["title"],
            "products": line["extra"].get("products", []),
        },
        "stage": link.stage,
        "round": link.round,
        "unit": unit.name,
        "recipient": link.recipient_email,
        "mail_domain": unit.email.rsplit("@", 1)[1],
        "deadline": cycle.stage_deadline,
        "expires": link.expires_at,
        "document": document_view(session, version, zone),
        "diff": diff_of(session, previous, version) if version else None,
        "comments": _comments(seen, defs, directory, zone, link),
        "decisions": [(d, PORTAL[f"decision.{d}"]) for d in decisions_at(link.stage)],
        "max_bytes": settings.max_document_bytes,
        "attachment": attachment_rule(defs, cycle, link.stage),
        "skeleton": skeleton(defs, cycle) if link.stage == Stage.DRAFT and not version else None,
    }
    return LinkPage(200, "link.html.j2", context)


def _why(session: Session, link: LinkToken, cycle: ReviewCycle, zone: ZoneInfo) -> str:
    delegation = delegation_from(session, link_id=link.id)
    if delegation is not None:
        at = delegation.delegated_at.astimezone(zone).strftime("%d/%m/%Y %H:%M")
        return PORTAL["link-delegated"].format(email=delegation.to_email, at=at)
    return PORTAL["link-cancelled"] if cycle.status == "cancelled" else PORTAL["link-replaced"]


def _comments(
    seen: Seen, defs: Definitions, directory: UnitDirectory, zone: ZoneInfo, link: LinkToken
) -> list[dict[str, Any]]:
    """Draft: the round before's opinions; approval: the reviewers'; review: the others'."""
    cycle = seen.cycle
    if link.stage == Stage.DRAFT:
        found = [d for d in seen.decisions if d.round == link.round - 1]
    elif kind_of(link.stage) == Stage.APPROVAL:
        found = [d for d in seen.decisions if d.round == link.round and d.stage != link.stage]
    else:
        shows = _shows(defs, cycle, link.stage)
        found = [
            d
            for d in seen.decisions
            if shows
            and (d.stage, d.round) == (link.stage, link.round)
            and d.reviewer_unit != link.recipient_unit
        ]
    return [decision_view(d, directory, zone) for d in found]


def _shows(defs: Definitions, cycle: ReviewCycle, key: str) -> bool:
    """Whether this review stage of the cycle's process shows reviewers each other's comments."""
    try:
        stage = defs.stage(defs.line(cycle.plan_key, cycle.line_code), key)
    except (KeyError, StopIteration, OSError):
        return True
    return bool(getattr(stage, "show_comments", True))
