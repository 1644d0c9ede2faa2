"""Tasks that queue the mail of a stage: requests to the people it waits for.

The outbox's idempotency key (cycle, stage, round, recipient, kind) makes a replay queue
nothing new; the task is also keyed and persisted, so a replay does not even open the database.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from prefect import task
from prefect.context import TaskRunContext
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from definitions.actors import lead_units, recipients
from definitions.stage_rules import Stage, kind_of
from duyet.definition_files import Definitions, definitions
from duyet.engine import CycleView, evaluate
from duyet.settings import Settings, get_settings
from notifications import dispatch, notices
from notifications.context import Document
from records.engine import session_scope

if TYPE_CHECKING:  # publishing imports WeasyPrint and pyHanko: only the publication step needs it
    from publishing.issue import Issued

ACTOR = "flow:review-cycle"


class StageRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    cycle_id: str
    stage: str
    round: int


def _key(_: TaskRunContext, parameters: dict[str, Any]) -> str:
    ref: StageRef = parameters["request"]
    return f"requests-{ref.cycle_id}-{ref.stage}-r{ref.round}"


@task(persist_result=True, cache_key_fn=_key, retries=3, retry_delay_seconds=2)
def send_requests(request: StageRef) -> int:
    """Queue the requests of the cycle's current stage and round; return how many mails."""
    settings = get_settings()
    defs = definitions(settings)
    now = dt.datetime.now(dt.UTC)
    with session_scope(settings.database_url) as session:
        view = evaluate(session, defs, cycle_id=request.cycle_id, now=now)
        if (view.stage, view.round) != (request.stage, request.round) or not view.expected:
            return 0
        return len(queue_requests(session, settings, defs, view, now=now))


def queue_requests(
    session: Session, settings: Settings, defs: Definitions, view: CycleView, *, now: dt.datetime
) -> list[Any]:
    """The request mails of `view`'s stage and round, to the units it waits for."""
    deadline = view.stage_deadline.astimezone(defs.timezone).date() if view.stage_deadline else None
    common: dict[str, Any] = {
        "settings": settings,
        "directory": defs.units(view.plan_id),
        "cycle_id": view.cycle_id,
        "round": view.round,
        "actor": ACTOR,
        "units": view.expected,
        "deadline": deadline,
        "now": now,
    }
    kind = kind_of(view.stage)
    if kind == Stage.DRAFT and view.round > 1:
        return list(dispatch.notify_changes_requested(session, **common))
    if kind == Stage.DRAFT:
        return list(dispatch.request_draft(session, **common))
    if kind == Stage.REVIEW:
        return list(dispatch.request_review(session, stage=view.stage, **common))
    if kind == Stage.APPROVAL:
        return list(dispatch.request_approval(session, stage=view.stage, **common))
    return []


def published(
    session: Session, settings: Settings, defs: Definitions, view: CycleView, issued: Issued
) -> None:
    """Send the signed document to the recipients (Nơi nhận) of the publication stage."""
    from publishing.issue import PDF_TYPE

    line, directory = defs.line(view.plan_id, view.code), defs.units(view.plan_id)
    units = recipients(defs.stage(line, Stage.PUBLICATION), line, directory)
    record = issued.record
    notices.notify_published(
        session,
        settings=settings,
        directory=directory,
        cycle_id=view.cycle_id,
        actor=ACTOR,
        units=units,
        issued=Document(
            filename=record.filename,
            sha256=record.sha256,
            size=len(issued.pdf),
            media_type=PDF_TYPE,
        ),
        number=issued.number_line,
        public_url=f"{settings.require_public_base_url()}/van-ban/{record.id}",
    )


def closed_rejected(
    session: Session, settings: Settings, defs: Definitions, view: CycleView
) -> None:
    """Tell the lead unit(s) the cycle ended without approval."""
    line, directory = defs.line(view.plan_id, view.code), defs.units(view.plan_id)
    notices.notify_rejected(
        session,
        settings=settings,
        directory=directory,
        cycle_id=view.cycle_id,
        actor=ACTOR,
        units=lead_units(line, directory),
    )
