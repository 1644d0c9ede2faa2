"""Which stage a review cycle may move to next. Pure: no database, no Prefect."""

from __future__ import annotations

from enum import StrEnum

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
