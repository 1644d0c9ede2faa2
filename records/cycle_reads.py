"""Reading review cycles: one by id as committed now, a line's, a flow run's, the open ones."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from records.errors import CycleUnknown
from records.models import ReviewCycle

# The reads a link's page makes are built once: a statement built per call costs as much as
# running it (SQLAlchemy coerces every clause and computes its cache key each time).
_CYCLE = (
    select(ReviewCycle)
    .where(ReviewCycle.id == bindparam("cycle_id"))
    .execution_options(populate_existing=True, autoflush=False)  # as Session.get
)


def get_cycle(session: Session, *, cycle_id: str) -> ReviewCycle:
    """The cycle as committed now (not a stale copy); `CycleUnknown` if absent."""
    cycle = session.scalars(_CYCLE, {"cycle_id": cycle_id}).first()
    if cycle is None:
        raise CycleUnknown(cycle_id=cycle_id)
    return cycle


def cycles_of_line(session: Session, *, plan_key: str, line_code: str) -> list[ReviewCycle]:
    """Every cycle of a plan line, oldest first."""
    query = select(ReviewCycle).where(
        ReviewCycle.plan_key == plan_key, ReviewCycle.line_code == line_code
    )
    return list(session.scalars(query.order_by(ReviewCycle.opened_at)))


def cycle_of_flow_run(session: Session, *, flow_run_id: str) -> ReviewCycle | None:
    """The cycle a flow run drives, if it opened or attached one."""
    query = select(ReviewCycle).where(ReviewCycle.flow_run_id == flow_run_id)
    return session.scalars(query).first()


def open_cycles(session: Session, *, plan_key: str | None = None) -> list[ReviewCycle]:
    """Every cycle not yet closed (of one plan, or all), oldest first."""
    query = select(ReviewCycle).where(ReviewCycle.status == "open")
    if plan_key is not None:
        query = query.where(ReviewCycle.plan_key == plan_key)
    return list(session.scalars(query.order_by(ReviewCycle.opened_at)))
