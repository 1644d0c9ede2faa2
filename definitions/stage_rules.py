"""Which stage a review cycle may move to next. Pure: no database, no Prefect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from definitions.process import AllPolicy, AnyPolicy, OnSilence, Policy, ProcessDefinition
from duyet.messages import RECORD_ERRORS, stage_name


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


def kind_of(stage: str) -> Stage:
    """The kind of a stage key: `review` and `review.appraisal` are both review stages.

    A process has one draft and one publication stage (keyed `draft`, `publication`); it may have
    several review and approval stages, keyed `review.<name>` / `approval.<name>`. The records,
    links and mails carry the key; everything that depends on the kind reads it from the key.
    """
    return Stage(stage.split(".", 1)[0])


# (from kind, to kind) -> the round change the move implies: sending back starts a new round.
# The order of the stages inside a process is the engine's business (`next_step`); the records
# refuse any move no process could make.
TRANSITIONS: dict[tuple[Stage, Stage], int] = {
    (Stage.DRAFT, Stage.REVIEW): 0,
    (Stage.DRAFT, Stage.APPROVAL): 0,
    (Stage.REVIEW, Stage.REVIEW): 0,
    (Stage.REVIEW, Stage.APPROVAL): 0,
    (Stage.REVIEW, Stage.DRAFT): 1,
    (Stage.APPROVAL, Stage.APPROVAL): 0,
    (Stage.APPROVAL, Stage.PUBLICATION): 0,
    (Stage.APPROVAL, Stage.DRAFT): 1,
    (Stage.PUBLICATION, Stage.CLOSED): 0,
}


class IllegalTransition(ValueError):
    """A stage change the rules do not allow."""

    code = "illegal-transition"

    def __init__(self, current: str, target: str, *, round_change: int) -> None:
        self.current = current
        self.target = target
        self.round_change = round_change
        super().__init__(f"{current} -> {target} (round {round_change:+d}) is not allowed")

    @property
    def message(self) -> str:
        return RECORD_ERRORS[self.code].format(
            current=stage_name(self.current), target=stage_name(self.target)
        )


def check_transition(current: str, target: str, *, round_change: int) -> None:
    """Raise `IllegalTransition` unless `current -> target` with `round_change` is allowed."""
    allowed = TRANSITIONS.get((kind_of(current), kind_of(target)))
    if current == target or allowed != round_change:
        raise IllegalTransition(current, target, round_change=round_change)


def check_cancel(current: str) -> None:
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
    stage: str  # the stage key: `review`, `review.appraisal`…
    round: int
    has_version: bool  # a document version exists for this round
    deadline_passed: bool = False
    period_over: bool = True  # a stage held open for a set period (public comment) has run it


@dataclass(frozen=True)
class Step:
    kind: StepKind
    target: str | None = None  # the stage key moved to
    verdict: Verdict | None = None  # what decided the stage, when it was decided by people
    missing: tuple[str, ...] = ()  # units that have not answered yet
    by_silence: bool = False  # decided because the deadline passed without objection


def _quorum(policy: Policy, expected: int) -> int:
    if isinstance(policy, AllPolicy):
        return expected
    if isinstance(policy, AnyPolicy):
        return min(1, expected)
    return min(policy.count, expected)


def _next(process: ProcessDefinition, current: str) -> str:
    keys = [s.id for s in process.stages]
    return keys[keys.index(current) + 1]


def next_step(
    process: ProcessDefinition,
    state: CycleState,
    *,
    expected: Sequence[str],
    answers: Sequence[Answer],
) -> Step:
    """What the cycle does next, given who is expected to answer and what they said."""
    kind = kind_of(state.stage)
    if kind == Stage.CLOSED:
        return Step(StepKind.DONE)
    if kind == Stage.PUBLICATION:
        return Step(StepKind.PUBLISH, target=Stage.CLOSED)
    if kind == Stage.DRAFT:
        if state.has_version:
            return Step(StepKind.ADVANCE, target=_next(process, state.stage))
        return Step(StepKind.WAIT, missing=tuple(expected))
    stage: Any = process.stage(state.stage)
    draft = process.stages[0].id
    said = {a.unit: a.verdict for a in answers if a.unit in expected}
    missing = tuple(unit for unit in expected if unit not in said)
    objection = next((v for v in said.values() if v != Verdict.APPROVE), None)
    if objection is not None:
        if state.round >= process.max_rounds:
            return Step(StepKind.CLOSE_REJECTED, target=Stage.CLOSED, verdict=objection)
        return Step(StepKind.BACK_TO_DRAFT, target=draft, verdict=objection)
    approvals = sum(v == Verdict.APPROVE for v in said.values())
    advance = Step(StepKind.ADVANCE, target=_next(process, state.stage), verdict=Verdict.APPROVE)
    if not state.period_over:  # a public-comment period runs its full length
        return Step(StepKind.WAIT, missing=missing)
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
