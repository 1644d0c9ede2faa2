"""Process definitions: the ordered stages a plan line's review cycle goes through."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from definitions.units import Strict


class StageKind(StrEnum):
    DRAFT = "draft"
    REVIEW = "review"
    APPROVAL = "approval"
    PUBLICATION = "publication"


class OnSilence(StrEnum):
    """What an unanswered request means once its deadline has passed."""

    NO_OBJECTION = "no_objection"  # silence counts as approval (common for lấy ý kiến)
    ESCALATE = "escalate"  # chase up the unit ladder, keep waiting
    BLOCK = "block"  # keep waiting; the Office must act


class LeadActors(Strict):
    kind: Literal["lead"] = "lead"


class PartnerActors(Strict):
    kind: Literal["partners"] = "partners"


class RoleActors(Strict):
    kind: Literal["role"] = "role"
    role: Literal["director_board", "office", "records_clerk"]


class UnitActors(Strict):
    kind: Literal["unit"] = "unit"
    units: list[str] = Field(min_length=1)


Actors = Annotated[
    LeadActors | PartnerActors | RoleActors | UnitActors, Field(discriminator="kind")
]


class AllPolicy(Strict):
    kind: Literal["all"] = "all"


class AnyPolicy(Strict):
    kind: Literal["any"] = "any"


class QuorumPolicy(Strict):
    kind: Literal["quorum"] = "quorum"
    count: int = Field(ge=1)


Policy = Annotated[AllPolicy | AnyPolicy | QuorumPolicy, Field(discriminator="kind")]


class Escalation(Strict):
    after_days: int = Field(ge=0, description="working days after the deadline")
    to: Literal["head", "board"]


class _Timed(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    deadline_days: int = Field(ge=1, description="working days from the stage's start")
    reminders: list[int] = Field(default=[], description="working days before the deadline")
    escalation: list[Escalation] = []


class DraftStage(_Timed):
    kind: Literal["draft"] = "draft"
    actors: Actors = LeadActors()


class ReviewStage(_Timed):
    kind: Literal["review"] = "review"
    actors: Actors = PartnerActors()
    policy: Policy = AllPolicy()
    on_silence: OnSilence = OnSilence.ESCALATE
    show_comments: bool = True  # reviewers see each other's comments


class ApprovalStage(_Timed):
    kind: Literal["approval"] = "approval"
    actors: Actors = RoleActors(role="director_board")
    policy: Policy = AnyPolicy()
    on_silence: OnSilence = OnSilence.BLOCK


class PublicationStage(_Timed):
    kind: Literal["publication"] = "publication"
    actors: Actors = RoleActors(role="records_clerk")
    recipients: list[Actors] = [LeadActors(), PartnerActors()]


Stage = Annotated[
    DraftStage | ReviewStage | ApprovalStage | PublicationStage, Field(discriminator="kind")
]


class ProcessDefinition(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name: str
    description: str = ""
    max_rounds: int = Field(default=5, ge=1)
    stages: list[Stage] = Field(min_length=2)

    @model_validator(mode="after")
    def _ordered(self) -> ProcessDefinition:
        kinds = [StageKind(stage.kind) for stage in self.stages]
        if kinds[0] != StageKind.DRAFT or kinds.count(StageKind.DRAFT) != 1:
            raise ValueError("a process starts with exactly one draft stage")
        if kinds[-1] != StageKind.PUBLICATION or kinds.count(StageKind.PUBLICATION) != 1:
            raise ValueError("a process ends with exactly one publication stage")
        if StageKind.APPROVAL not in kinds:
            raise ValueError("a process needs at least one approval stage")
        ids = [stage.id for stage in self.stages]
        if len(set(ids)) != len(ids):
            raise ValueError(f"stage ids must be unique: {ids}")
        return self

    def stage(self, stage_id: str) -> Stage:
        """The stage with this id; KeyError names it when absent."""
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(stage_id)
