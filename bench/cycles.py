"""Cycles made directly in the records, as a played cycle leaves them at review: opened, its
draft put up, moved to review, its review requests queued with their links. The repository
functions and the dispatch the flow's tasks call, without a flow run (see `bench.hold`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm import Session

from definitions.plan import Plan
from definitions.stage_rules import Stage
from duyet.definition_files import definitions
from duyet.engine import evaluate
from duyet.settings import Settings
from records.cycles import advance_stage, open_cycle
from records.documents import submit_version
from records.engine import session_scope
from records.models import Mail
from tasks.mail import queue_requests

ACTOR = "bench"
SEED_PLAN = "ke-hoach-cchc-2023-svhttdl"  # other departments' plans may sit beside it


def seed_plan(settings: Settings) -> Plan:
    """The seed plan, read once per process (while its file is unchanged), not once a call."""
    return definitions(settings).plan(SEED_PLAN)


def reviewers(settings: Settings, code: str) -> int:
    """How many units the line's review stage waits for (its partners, groups expanded)."""
    defs = definitions(settings)
    line = seed_plan(settings).line(code)

    def units(refs: list[str]) -> set[str]:
        return {u for ref in refs if " " not in ref for u in defs.units(SEED_PLAN).expand(ref)}

    return len(units(line.partners) - units(line.lead))


def review_lines(settings: Settings, *, least: int = 1) -> list[str]:
    """Lines of the default process whose review waits for `least` units or more, fewest first."""
    plan = seed_plan(settings)
    sized = [
        (reviewers(settings, line.code), line.code)
        for line in plan.lines
        if line.process == "default" and line.lead
    ]
    return [code for count, code in sorted(sized) if count >= least]


def at_review(
    settings: Settings, codes: list[str], *, mark_sent: bool, requests: bool = True
) -> list[tuple[str, str]]:
    """One cycle per code, at review round 1 with its requests queued, in one transaction;
    (cycle id, code). `mark_sent`: their mails are marked sent (they never go out);
    `requests=False`: none queued yet (`queue_for` queues them later)."""
    defs = definitions(settings)
    plan_id = seed_plan(settings).id
    now = dt.datetime.now(dt.UTC)
    today = defs.today(now)
    made = []
    with session_scope(settings.database_url) as session:
        for code in codes:
            line = defs.line(plan_id, code)
            cycle = open_cycle(
                session,
                plan_key=plan_id,
                line_code=code,
                opened_by=ACTOR,
                stage_deadline=defs.deadline(today, defs.stage(line, Stage.DRAFT).deadline_days),
            )
            submit_version(
                session,
                cycle_id=cycle.id,
                content=f"Dự thảo {cycle.id}".encode(),
                filename="du-thao.txt",
                media_type="text/plain",
                submitted_by=ACTOR,
                max_bytes=settings.max_document_bytes,
            )
            advance_stage(
                session,
                cycle_id=cycle.id,
                target=Stage.REVIEW,
                actor=ACTOR,
                stage_deadline=defs.deadline(today, defs.stage(line, Stage.REVIEW).deadline_days),
            )
            if requests:
                view = evaluate(session, defs, cycle_id=cycle.id, now=now)
                queue_requests(session, settings, defs, view, now=now)
            made.append((cycle.id, code))
        if mark_sent:
            _mark_sent(session, [cycle_id for cycle_id, _ in made], now)
    return made


def queue_for(settings: Settings, cycle_ids: list[str], *, mark_sent: bool) -> None:
    """Queue the review requests of cycles made with `requests=False`."""
    defs = definitions(settings)
    now = dt.datetime.now(dt.UTC)
    with session_scope(settings.database_url) as session:
        for cycle_id in cycle_ids:
            view = evaluate(session, defs, cycle_id=cycle_id, now=now)
            queue_requests(session, settings, defs, view, now=now)
        if mark_sent:
            _mark_sent(session, cycle_ids, now)


def _mark_sent(session: Session, cycle_ids: list[str], now: dt.datetime) -> None:
    session.execute(
        update(Mail).where(Mail.cycle_id.in_(cycle_ids)).values(status="sent", sent_at=now)
    )
