"""The review engine: a cycle read from the records and judged by its process definition.

Used alike by the flow's tasks, the portal, the sweeper and the CLI, so that they all agree on
what a cycle waits for. No Prefect here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from definitions.actors import stage_actors
from definitions.plan import PlanLine
from definitions.stage_rules import (
    Answer,
    CycleState,
    Stage,
    Step,
    StepKind,
    Verdict,
    kind_of,
    next_step,
)
from duyet.definition_files import Definitions
from records.cycle_reads import get_cycle
from records.decisions import decisions_of_cycle
from records.documents import version_of_round
from records.models import ReviewCycle


class AnswerView(BaseModel):
    model_config = ConfigDict(frozen=True)

    unit: str
    stage: str
    round: int
    verdict: Verdict
    comment: str
    at: dt.datetime

    @classmethod
    def of(cls, decision: Any) -> AnswerView:
        """From a `Decision`, or a row with its columns."""
        return cls(
            unit=decision.reviewer_unit,
            stage=decision.stage,
            round=decision.round,
            verdict=Verdict(decision.verdict),
            comment=decision.comment,
            at=decision.decided_at,
        )


class CycleView(BaseModel):
    """A cycle as the engine sees it: where it is, who must act, what happens next."""

    model_config = ConfigDict(frozen=True)

    cycle_id: str
    plan_id: str
    code: str
    stage: str  # the stage key (`review`, `review.appraisal`…)
    round: int
    status: str
    flow_run_id: str | None
    stage_deadline: dt.datetime | None
    due: dt.date | None
    document_sha256: str | None  # the version of this round, if any
    expected: list[str]
    answers: list[AnswerView]  # of this stage and round
    step: StepKind
    target: str | None
    verdict: Verdict | None
    missing: list[str]
    by_silence: bool

    @property
    def decided(self) -> bool:
        """Nothing left to wait for at this stage: the flow can move on."""
        return self.step not in (StepKind.WAIT, StepKind.DONE)


def evaluate(session: Session, defs: Definitions, *, cycle_id: str, now: dt.datetime) -> CycleView:
    """Read the cycle and its answers, and apply the stage rules to them."""
    cycle = get_cycle(session, cycle_id=cycle_id)
    line = defs.line(cycle.plan_key, cycle.line_code)
    answers = [
        AnswerView.of(d)
        for d in decisions_of_cycle(session, cycle_id=cycle_id)
        if (d.stage, d.round) == (cycle.stage, cycle.round)
    ]
    version = version_of_round(session, cycle_id=cycle_id, round=cycle.round)
    expected = expected_at(defs, line, cycle.plan_key, cycle.stage)
    return judge(defs, line, cycle, expected, answers, version.sha256 if version else None, now)


def expected_at(defs: Definitions, line: PlanLine, plan_id: str, stage: str) -> list[str]:
    """The units a stage of the line waits for (none at publication or once closed)."""
    if kind_of(stage) in (Stage.CLOSED, Stage.PUBLICATION):
        return []
    return stage_actors(defs.stage(line, stage), line, defs.units(plan_id))


def judge(
    defs: Definitions,
    line: PlanLine,
    cycle: ReviewCycle,
    expected: list[str],
    answers: list[AnswerView],
    document_sha256: str | None,
    now: dt.datetime,
) -> CycleView:
    """The stage rules applied to a cycle as read: its answers at its stage and round, the
    document it put up for the round (`document_sha256`, if any)."""
    step = _step(
        defs, line, cycle, expected, answers, has_version=document_sha256 is not None, now=now
    )
    return CycleView(
        cycle_id=cycle.id,
        plan_id=cycle.plan_key,
        code=cycle.line_code,
        stage=cycle.stage,
        round=cycle.round,
        status=cycle.status,
        flow_run_id=cycle.flow_run_id,
        stage_deadline=cycle.stage_deadline,
        due=cycle.due,
        document_sha256=document_sha256,
        expected=list(expected),
        answers=answers,
        step=step.kind,
        target=step.target,
        verdict=step.verdict,
        missing=list(step.missing),
        by_silence=step.by_silence,
    )


def _period_over(defs: Definitions, line: PlanLine, cycle: ReviewCycle, now: dt.datetime) -> bool:
    """Whether a stage held open for a set period (public comment) has run it in full."""
    if kind_of(cycle.stage) != Stage.REVIEW or cycle.stage_started_at is None:
        return True
    days = getattr(defs.stage(line, cycle.stage), "public_comment_days", 0)
    return now >= cycle.stage_started_at + dt.timedelta(days=days)


def _step(
    defs: Definitions,
    line: PlanLine,
    cycle: ReviewCycle,
    expected: list[str],
    answers: list[AnswerView],
    *,
    has_version: bool,
    now: dt.datetime,
) -> Step:
    deadline_passed = cycle.stage_deadline is not None and now > cycle.stage_deadline
    state = CycleState(
        stage=cycle.stage,
        round=cycle.round,
        has_version=has_version,
        deadline_passed=deadline_passed,
        period_over=_period_over(defs, line, cycle, now),
    )
    return next_step(
        defs.process_of(line),
        state,
        expected=expected,
        answers=[Answer(a.unit, a.verdict) for a in answers],
    )
