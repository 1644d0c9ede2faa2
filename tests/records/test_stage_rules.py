"""The pure stage rules (definitions/stage_rules.py): no database needed."""

from __future__ import annotations

import itertools

import pytest

from definitions.stage_rules import (
    TRANSITIONS,
    IllegalTransition,
    Stage,
    check_cancel,
    check_transition,
    kind_of,
)

ALLOWED = {
    (Stage.DRAFT, Stage.REVIEW, 0),
    (Stage.DRAFT, Stage.APPROVAL, 0),  # a process may have no review stage
    (Stage.REVIEW, Stage.APPROVAL, 0),
    (Stage.REVIEW, Stage.DRAFT, 1),
    (Stage.APPROVAL, Stage.PUBLICATION, 0),
    (Stage.APPROVAL, Stage.DRAFT, 1),
    (Stage.PUBLICATION, Stage.CLOSED, 0),
}


@pytest.mark.parametrize(("current", "target", "round_change"), sorted(ALLOWED))
def test_allowed_moves_pass(current: Stage, target: Stage, round_change: int) -> None:
    check_transition(current, target, round_change=round_change)


def test_every_other_move_is_refused() -> None:
    refused = 0
    for current, target, change in itertools.product(Stage, Stage, (-1, 0, 1, 2)):
        if (current, target, change) in ALLOWED:
            continue
        with pytest.raises(IllegalTransition) as caught:
            check_transition(current, target, round_change=change)
        assert (caught.value.current, caught.value.target) == (current, target)
        refused += 1
    assert refused == 5 * 5 * 4 - len(ALLOWED)
    # and two named stages of one kind follow each other (review.opinions -> review.appraisal)
    assert len(TRANSITIONS) == len(ALLOWED) + 2


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("review.opinions", "review.appraisal"),
        ("review.appraisal", "approval.submission"),
        ("approval.submission", "approval.issuance"),
        ("approval.issuance", "publication"),
    ],
)
def test_named_stages_of_a_process_move_forward(current: str, target: str) -> None:
    check_transition(current, target, round_change=0)
    check_transition(current, "draft", round_change=1)


def test_a_stage_does_not_move_to_itself() -> None:
    with pytest.raises(IllegalTransition):
        check_transition("review.appraisal", "review.appraisal", round_change=0)


def test_kind_of_reads_the_key() -> None:
    assert kind_of("review.appraisal") == Stage.REVIEW
    assert kind_of("approval") == Stage.APPROVAL
    with pytest.raises(ValueError):
        kind_of("appraisal")


def test_sending_back_without_a_new_round_is_refused() -> None:
    with pytest.raises(IllegalTransition):
        check_transition(Stage.REVIEW, Stage.DRAFT, round_change=0)


def test_refusal_speaks_vietnamese() -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition(Stage.DRAFT, Stage.PUBLICATION, round_change=0)
    assert caught.value.message == "Không được chuyển từ giai đoạn «dự thảo» sang «ban hành»"


@pytest.mark.parametrize("stage", [s for s in Stage if s is not Stage.CLOSED])
def test_any_open_stage_can_be_cancelled(stage: Stage) -> None:
    check_cancel(stage)


def test_a_closed_cycle_cannot_be_cancelled() -> None:
    with pytest.raises(IllegalTransition):
        check_cancel(Stage.CLOSED)
