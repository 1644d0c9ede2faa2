"""Which stage a review cycle may move to next. Pure: no database, no Prefect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from definitions.process import AllPolicy, AnyPolicy, OnSilence, Policy, ProcessDefinition
from duyet.messages import RECORD_ERRORS, STAGES


class Stage(StrEnum):
    DRAFT = "draft"
    REVIEW = "review"
    APPROVAL = "approval"
    PUBLICATION = "publication"
    CLOSED = "closed"


class Verdict(StrEnum):
    """What a reviewing or approving unit says about a document version."""

    APPROVE = "approve"
    CHANGES = "changes"  # agree in principle, with requested changes
    REJECT = "reject"


# (from, to) -> the round change the move implies: sending a document back starts a new round.
TRANSITIONS: dict[tuple[Stage, Stage], int] = {
    (Stage.DRAFT, Stage.REVIEW): 0,
    (Stage.REVIEW, Stage.APPROVAL): 0,
    (Stage.REVIEW, Stage.DRAFT): 1,
    (Stage.APPROVAL, Stage.PUBLICATION): 0,
    (Stage.APPROVAL, Stage.DRAFT): 1,
    (Stage.PUBLICATION, Stage.CLOSED): 0,
}


class IllegalTransition(ValueError):
    """A stage change the rules do not allow."""

    code = "illegal-transition"

    def __init__(self, current: Stage, target: Stage, *, round_change: int) -> None:
        self.current = current
        self.target = target
        self.round_change = round_change
        super().__init__(f"{current} -> {target} (round {round_change:+d}) is not allowed")

    @property
    def message(self) -> str:
        return RECORD_ERRORS[self.code].format(
            current=STAGES[self.current], target=STAGES[self.target]
        )


def check_transition(current: Stage, target: Stage, *, round_change: int) -> None:
    """Raise `IllegalTransition` unless `current -> target` with `round_change` is allowed."""
    if TRANSITIONS.get((current, target)) != round_change:
        raise IllegalTransition(current, target, round_change=round_change)


def check_cancel(current: Stage) -> None:
    """Raise `IllegalTransition` unless a cycle at `current` can still be cancelled."""
    if current == Stage.CLOSED:
        raise IllegalTransition(current, Stage.CLOSED, round_change=0)


# --- What happens next: a pure function of the process, the cycle and the answers so far. ---


class StepKind(StrEnum):
    WAIT = "wait"  # people still have to act
    ADVANCE = "advance"  # to the next stage of the process, same round
    BACK_TO_DRAFT = "back_to_draft"  # changes requested or rejected: next round
    PUBLISH = "publish"  # the publication stage runs by itself
    CLOSE_REJECTED = "close_rejected"  # sent back once more than the process allows
    DONE = "done"  # the cycle is closed


@dataclass(frozen=True)
class Answer:
    unit: str
    verdict: Verdict


@dataclass(frozen=True)
class CycleState:
    stage: Stage
    round: int
    has_version: bool  # a document version exists for this round
    deadline_passed: bool = False


@dataclass(frozen=True)
class Step:
    kind: StepKind
    target: Stage | None = None
    verdict: Verdict | None = None  # what decided the stage, when it was decided by people
    missing: tuple[str, ...] = ()  # units that have not answered yet
    by_silence: bool = False  # decided because the deadline passed without objection


def _quorum(policy: Policy, expected: int) -> int:
    if isinstance(policy, AllPolicy):
        return expected
    if isinstance(policy, AnyPolicy):
        return min(1, expected)
    return min(policy.count, expected)


def _next_kind(process: ProcessDefinition, current: Stage) -> Stage:
    kinds = [Stage(s.kind) for s in process.stages]
    return kinds[kinds.index(current) + 1]


def _stage(process: ProcessDefinition, current: Stage) -> Any:
    return next(s for s in process.stages if s.kind == current)


def next_step(
    process: ProcessDefinition,
    state: CycleState,
    *,
    expected: Sequence[str],
    answers: Sequence[Answer],
) -> Step:
    """What the cycle does next, given who is expected to answer and what they said."""
    if state.stage == Stage.CLOSED:
        return Step(StepKind.DONE)
    if state.stage == Stage.PUBLICATION:
        return Step(StepKind.PUBLISH, target=Stage.CLOSED)
    if state.stage == Stage.DRAFT:
        if state.has_version:
            return Step(StepKind.ADVANCE, target=_next_kind(process, state.stage))
        return Step(StepKind.WAIT, missing=tuple(expected))
    stage = _stage(process, state.stage)
    said = {a.unit: a.verdict for a in answers if a.unit in expected}
    missing = tuple(unit for unit in expected if unit not in said)
    objection = next((v for v in said.values() if v != Verdict.APPROVE), None)
    if objection is not None:
        if state.round >= process.max_rounds:
            return Step(StepKind.CLOSE_REJECTED, target=Stage.CLOSED, verdict=objection)
        return Step(StepKind.BACK_TO_DRAFT, target=Stage.DRAFT, verdict=objection)
    approvals = sum(v == Verdict.APPROVE for v in said.values())
    advance = Step(
        StepKind.ADVANCE, target=_next_kind(process, state.stage), verdict=Verdict.APPROVE
    )
    if approvals >= _quorum(stage.policy, len(expected)):
        return advance
    if state.deadline_passed and stage.on_silence == OnSilence.NO_OBJECTION:
        return Step(
            advance.kind,
            target=advance.target,
            verdict=Verdict.APPROVE,
            missing=missing,
            by_silence=True,
        )
    return Step(StepKind.WAIT, missing=missing)
