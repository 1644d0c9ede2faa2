"""Stage rules: policies, objections, rounds and silence — pure, in milliseconds."""

from __future__ import annotations

import pytest

from definitions.actors import recipients, stage_actors
from definitions.loader import load_plan, load_process
from definitions.plan import Plan
from definitions.process import AnyPolicy, ProcessDefinition, QuorumPolicy, ReviewStage
from definitions.stage_rules import Answer, CycleState, Stage, StepKind, Verdict, next_step
from definitions.units import UnitDirectory
from duyet.settings import PROJECT_ROOT

A, C, R = Verdict.APPROVE, Verdict.CHANGES, Verdict.REJECT
UNITS = ["u1", "u2", "u3"]


@pytest.fixture(scope="module")
def process() -> ProcessDefinition:
    return load_process(PROJECT_ROOT / "definitions" / "processes" / "default.yaml")


def with_review(process: ProcessDefinition, **changes: object) -> ProcessDefinition:
    stages = [
        s.model_copy(update=changes) if isinstance(s, ReviewStage) else s for s in process.stages
    ]
    return process.model_copy(update={"stages": stages})


def step(process: ProcessDefinition, stage: Stage, answers: dict[str, Verdict], **state: object):  # type: ignore[no-untyped-def]
    cycle = CycleState(stage=stage, round=int(state.pop("round", 1)), has_version=True, **state)  # type: ignore[arg-type]
    return next_step(
        process, cycle, expected=UNITS, answers=[Answer(u, v) for u, v in answers.items()]
    )


def test_draft_waits_for_a_version(process: ProcessDefinition) -> None:
    waiting = next_step(
        process, CycleState(Stage.DRAFT, 1, has_version=False), expected=["lead"], answers=[]
    )
    assert waiting.kind == StepKind.WAIT and waiting.missing == ("lead",)
    ready = next_step(process, CycleState(Stage.DRAFT, 1, True), expected=["lead"], answers=[])
    assert (ready.kind, ready.target) == (StepKind.ADVANCE, Stage.REVIEW)


def test_all_must_approve(process: ProcessDefinition) -> None:
    partial = step(process, Stage.REVIEW, {"u1": A, "u2": A})
    assert partial.kind == StepKind.WAIT and partial.missing == ("u3",)
    done = step(process, Stage.REVIEW, {"u1": A, "u2": A, "u3": A})
    assert (done.kind, done.target) == (StepKind.ADVANCE, Stage.APPROVAL)


def test_one_request_for_changes_ends_the_round(process: ProcessDefinition) -> None:
    result = step(process, Stage.REVIEW, {"u1": C})
    assert (result.kind, result.target, result.verdict) == (
        StepKind.BACK_TO_DRAFT, Stage.DRAFT, C
    )  # fmt: skip


def test_first_response_and_quorum(process: ProcessDefinition) -> None:
    first = with_review(process, policy=AnyPolicy())
    assert step(first, Stage.REVIEW, {"u2": A}).kind == StepKind.ADVANCE
    quorum = with_review(process, policy=QuorumPolicy(count=2))
    assert step(quorum, Stage.REVIEW, {"u2": A}).kind == StepKind.WAIT
    assert step(quorum, Stage.REVIEW, {"u2": A, "u3": A}).kind == StepKind.ADVANCE


def test_silence_at_the_deadline(process: ProcessDefinition) -> None:
    # default review stage: silence escalates, i.e. keeps waiting
    assert step(process, Stage.REVIEW, {"u1": A}, deadline_passed=True).kind == StepKind.WAIT
    lenient = with_review(process, on_silence="no_objection")
    before = step(lenient, Stage.REVIEW, {"u1": A}, deadline_passed=False)
    assert before.kind == StepKind.WAIT
    after = step(lenient, Stage.REVIEW, {"u1": A}, deadline_passed=True)
    assert (after.kind, after.by_silence, after.missing) == (StepKind.ADVANCE, True, ("u2", "u3"))
    objected = step(lenient, Stage.REVIEW, {"u1": C}, deadline_passed=True)
    assert objected.kind == StepKind.BACK_TO_DRAFT


def test_approval_reject_and_approve(process: ProcessDefinition) -> None:
    assert step(process, Stage.APPROVAL, {"u1": R}).kind == StepKind.BACK_TO_DRAFT
    approved = step(process, Stage.APPROVAL, {"u1": A})
    assert (approved.kind, approved.target) == (StepKind.ADVANCE, Stage.PUBLICATION)


def test_too_many_rounds_close_the_cycle(process: ProcessDefinition) -> None:
    last = step(process, Stage.APPROVAL, {"u1": R}, round=process.max_rounds)
    assert last.kind == StepKind.CLOSE_REJECTED


def test_publication_and_closed(process: ProcessDefinition) -> None:
    assert step(process, Stage.PUBLICATION, {}).kind == StepKind.PUBLISH
    assert step(process, Stage.CLOSED, {}).kind == StepKind.DONE


def test_nobody_to_review_advances(process: ProcessDefinition) -> None:
    result = next_step(process, CycleState(Stage.REVIEW, 1, True), expected=[], answers=[])
    assert result.kind == StepKind.ADVANCE


def test_who_acts_on_seed_lines(process: ProcessDefinition, directory: UnitDirectory) -> None:

    plan: Plan = load_plan(
        PROJECT_ROOT / "definitions" / "plans" / "ke-hoach-cchc-2023-svhttdl.yaml"
    )
    draft, review, approval, publication = process.stages
    line = plan.line("1.4.b")
    assert stage_actors(draft, line, directory) == ["thanh-tra"]
    reviewers = stage_actors(review, line, directory)
    assert len(reviewers) == 9 + 5 and "vhtt-di-an" in reviewers and "thu-vien" in reviewers
    assert stage_actors(approval, line, directory) == ["ban-giam-doc"]
    assert "van-phong" in recipients(publication, line, directory)
    # a line without a lead unit is drafted by the Office; citizens are not asked
    assert stage_actors(draft, plan.line("4.1.b"), directory) == ["van-phong"]
    assert stage_actors(review, plan.line("2.2.a"), directory) == []
    # the lead is not asked to review its own draft
    assert "van-phong" not in stage_actors(review, plan.line("7.5"), directory)


# --- The legal-normative process: several review and approval stages, keyed by name. ---


@pytest.fixture(scope="module")
def legal() -> ProcessDefinition:
    return load_process(PROJECT_ROOT / "definitions" / "processes" / "legal-normative.yaml")


def test_legal_process_walks_its_stages_in_order(legal: ProcessDefinition) -> None:
    assert [s.id for s in legal.stages] == [
        "draft",
        "review.opinions",
        "review.appraisal",
        "approval.submission",
        "approval.issuance",
        "publication",
    ]
    ready = next_step(legal, CycleState("draft", 1, True), expected=["vp"], answers=[])
    assert ready.target == "review.opinions"
    path = ["review.opinions", "review.appraisal", "approval.submission", "approval.issuance"]
    for here, there in zip(path, [*path[1:], "publication"], strict=True):
        moved = step(legal, here, {"u1": A, "u2": A, "u3": A})  # type: ignore[arg-type]
        assert (moved.kind, moved.target) == (StepKind.ADVANCE, there)


def test_an_objection_at_appraisal_sends_the_draft_back(legal: ProcessDefinition) -> None:
    back = step(legal, "review.appraisal", {"u1": C})  # type: ignore[arg-type]
    assert (back.kind, back.target) == (StepKind.BACK_TO_DRAFT, "draft")


def test_public_comment_period_runs_its_full_length(legal: ProcessDefinition) -> None:
    early = step(legal, "review.opinions", {"u1": A, "u2": A, "u3": A}, period_over=False)  # type: ignore[arg-type]
    assert early.kind == StepKind.WAIT
    # ... and silence is no objection only once the period is over
    silent = step(legal, "review.opinions", {}, deadline_passed=True, period_over=False)  # type: ignore[arg-type]
    assert silent.kind == StepKind.WAIT
    over = step(legal, "review.opinions", {}, deadline_passed=True)  # type: ignore[arg-type]
    assert (over.kind, over.by_silence) == (StepKind.ADVANCE, True)


def test_time_limits_live_in_the_definition(legal: ProcessDefinition) -> None:
    opinions = legal.stage("review.opinions")
    assert isinstance(opinions, ReviewStage) and opinions.public_comment_days == 30
    appraisal = legal.stage("review.appraisal")
    assert isinstance(appraisal, ReviewStage) and appraisal.attachment is not None
    assert appraisal.attachment.name == "Báo cáo thẩm định"


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({"id": "appraisal"}, "pattern"),
        ({"id": "approval.x"}, "is a review stage"),
    ],
)
def test_stage_keys_carry_their_kind(
    legal: ProcessDefinition, bad: dict[str, str], error: str
) -> None:
    data = legal.model_dump(mode="json")
    data["stages"][2].update(bad)
    with pytest.raises(ValueError, match=error):
        ProcessDefinition.model_validate(data)


def test_the_seed_plan_gives_line_1_1_the_legal_process() -> None:
    plan = load_plan(PROJECT_ROOT / "definitions" / "plans" / "ke-hoach-cchc-2023-svhttdl.yaml")
    assert plan.line("1.1").process == "legal-normative"
    assert {line.process for line in plan.lines if line.code != "1.1"} == {"default"}
