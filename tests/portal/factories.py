"""Builders for the portal tests: cycles at a stage with real signed links, accounts, forms."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from definitions.stage_rules import Stage
from duyet.definition_files import definitions
from duyet.engine import evaluate
from duyet.settings import Settings
from flows.control import cancel_cycle_everywhere
from notifications.links import resolve_links
from portal.passwords import hash_password
from records.audit import events
from records.cycle_reads import cycles_of_line
from records.cycles import advance_stage, open_cycle
from records.documents import submit_version
from records.engine import session_scope
from records.models import Decision, DocumentVersion, LinkToken, Mail, ReviewCycle
from records.users import add_user
from tasks.mail import queue_requests

SEED_PLAN = "ke-hoach-cchc-2023-svhttdl"
REVIEWERS_2_1_A = ("phong-quan-ly-van-hoa", "phong-quan-ly-the-thao", "phong-quan-ly-du-lich")
PASSWORD = "mat-khau-thu-nghiem-2024"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TOKEN = re.compile(r"/r/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class Opened:
    cycle_id: str
    links: dict[str, str]  # unit id -> raw token

    @property
    def first(self) -> str:
        return next(iter(self.links.values()))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def open_at(
    settings: Settings,
    code: str,
    stage: Stage,
    *,
    versions: tuple[bytes, ...] = (b"Du thao vong 1\nDong hai\n",),
    plan_key: str = SEED_PLAN,
) -> Opened:
    """A cycle of `code` at `stage` (round = len(versions)), its requests queued with links."""
    defs = definitions(settings)
    moment = now()
    deadline = defs.deadline(defs.today(moment), 10)
    with session_scope(settings.database_url) as session:
        cycle = open_cycle(
            session,
            plan_key=plan_key,
            line_code=code,
            opened_by="office",
            stage_deadline=deadline,
        )
        for index, content in enumerate(versions):
            if index:  # the reviewers asked for changes: back to draft, next round
                advance_stage(
                    session, cycle_id=cycle.id, target=Stage.DRAFT, actor="t", round_change=1
                )
            last = index == len(versions) - 1
            if last and stage == Stage.DRAFT:
                break
            submit_version(
                session,
                cycle_id=cycle.id,
                content=content,
                filename="du-thao.txt",
                media_type="text/plain",
                submitted_by="office",
                max_bytes=settings.max_document_bytes,
            )
            advance_stage(
                session, cycle_id=cycle.id, target=Stage.REVIEW, actor="t", stage_deadline=deadline
            )
        if stage == Stage.APPROVAL:
            advance_stage(
                session,
                cycle_id=cycle.id,
                target=Stage.APPROVAL,
                actor="t",
                stage_deadline=deadline,
            )
        view = evaluate(session, defs, cycle_id=cycle.id, now=moment)
        mails = queue_requests(session, settings, defs, view, now=moment)
        links = {mail.recipient: token_of_mail(session, settings, mail) for mail in mails}
    return Opened(cycle.id, links)


async def free_line(settings: Settings, code: str) -> None:
    """Withdraw every open cycle of a line (earlier tiers started every line on the stack)."""
    with session_scope(settings.database_url) as session:
        cycles = cycles_of_line(session, plan_key=SEED_PLAN, line_code=code)
        open_ids = [cycle.id for cycle in cycles if cycle.status == "open"]
    for cycle_id in open_ids:
        await cancel_cycle_everywhere(settings, cycle_id, actor="test", reason="dọn dòng")


def token_of_mail(session: Session, settings: Settings, mail: Mail) -> str:
    (url,) = resolve_links(session, settings=settings, mail=mail).values()
    return url.rsplit("/r/", 1)[1]


def add_account(settings: Settings, username: str, role: str) -> str:
    with session_scope(settings.database_url) as session:
        add_user(
            session,
            username=username,
            display_name=f"Nguyễn Văn {username.title()}",
            role=role,
            password_hash=hash_password(PASSWORD),
            actor="test",
        )
    return username


def csrf_in(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/login")
    answer = client.post(
        "/login", data={"csrf": csrf_in(form), "username": username, "password": password}
    )
    return answer


def snapshot(settings: Settings, cycle_id: str | None = None) -> dict[str, Any]:
    """What a GET must never change: decisions, versions, links used or revoked, mail, cycles,
    and every audit event but `link.opened`."""

    def count(model: Any, *where: Any) -> int:
        query = select(func.count()).select_from(model)
        if cycle_id is not None:
            query = query.where(model.cycle_id == cycle_id)
        return int(session.scalar(query.where(*where)) or 0)

    with session_scope(settings.database_url) as session:
        cycles = select(ReviewCycle.id, ReviewCycle.stage, ReviewCycle.round, ReviewCycle.status)
        return {
            "decisions": count(Decision),
            "versions": count(DocumentVersion),
            "links": count(LinkToken),
            "used": count(LinkToken, LinkToken.used_at.is_not(None)),
            "revoked": count(LinkToken, LinkToken.revoked_at.is_not(None)),
            "mail": count(Mail),
            "cycles": sorted(tuple(row) for row in session.execute(cycles)),
            "events": [
                (e.seq, e.action)
                for e in events(session)
                if e.action != "link.opened"
                and (cycle_id is None or json.loads(e.payload).get("cycle_id") == cycle_id)
            ],
        }


def opened_events(settings: Settings) -> int:
    with session_scope(settings.database_url) as session:
        return sum(1 for e in events(session) if e.action == "link.opened")
