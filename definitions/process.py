"""Process definitions: the ordered stages a plan line's review cycle goes through."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from definitions.doctypes import doc_type
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
    # The stage key the records, links and mails carry: its kind, then an optional name when a
    # process has several stages of that kind (`review.appraisal`). Draft and publication are
    # one per process and keyed by their kind alone.
    id: str = Field(pattern=r"^(draft|review|approval|publication)(\.[a-z][a-z0-9_]*)?$")
    name: str
    deadline_days: int = Field(ge=1, description="working days from the stage's start")
    reminders: list[int] = Field(default=[], description="working days before the deadline")
    escalation: list[Escalation] = []


class AttachmentRule(Strict):
    """A document the answering unit attaches to its decision (Sở Tư pháp's appraisal report)."""

    name: str  # Báo cáo thẩm định
    required: bool = True


class Issuing(Strict):
    """Who issues the published document, and how its number reads."""

    issuer: str | None = None  # unit id of the issuing body; None: the department itself
    type: str | None = None  # the document type issued (Quyết định); None: the line's product
    year_in_number: bool = False  # VBQPPL: `Số: 15/2023/QĐ-UBND`
    gazette: bool = False  # also sent to the Official Gazette (Công báo)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                doc_type(value)
            except KeyError:
                raise ValueError(f"unknown document type: {value!r}") from None
        return value


class DraftStage(_Timed):
    kind: Literal["draft"] = "draft"
    actors: Actors = LeadActors()


class ReviewStage(_Timed):
    kind: Literal["review"] = "review"
    actors: Actors = PartnerActors()
    policy: Policy = AllPolicy()
    on_silence: OnSilence = OnSilence.ESCALATE
    show_comments: bool = True  # reviewers see each other's comments
    public_comment_days: int = Field(
        default=0,
        ge=0,
        description="calendar days the draft stays on the public page for comment; the stage "
        "cannot end before they have run",
    )
    attachment: AttachmentRule | None = None  # a report the reviewers must attach


class ApprovalStage(_Timed):
    attachment: AttachmentRule | None = None
    kind: Literal["approval"] = "approval"
    actors: Actors = RoleActors(role="director_board")
    policy: Policy = AnyPolicy()
    on_silence: OnSilence = OnSilence.BLOCK


class PublicationStage(_Timed):
    kind: Literal["publication"] = "publication"
    actors: Actors = RoleActors(role="records_clerk")
    recipients: list[Actors] = [LeadActors(), PartnerActors()]
    issuing: Issuing = Issuing()


Stage = Annotated[
    DraftStage | ReviewStage | ApprovalStage | PublicationStage, Field(discriminator="kind")
]


class AppliesTo(Strict):
    """Which plan lines take this process instead of the default one (any rule matching)."""

    title_patterns: list[str] = []  # regular expressions, matched case-insensitively
    products: list[str] = []  # document type names (Nghị quyết…)

    def matches(self, title: str, products: list[str]) -> bool:
        if any(re.search(p, title, re.IGNORECASE) for p in self.title_patterns):
            return True
        return any(product in self.products for product in products)


class ProcessDefinition(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name: str
    description: str = ""
    legal_basis: str = ""  # the law the time limits follow
    applies_to: AppliesTo | None = None
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
        for stage in self.stages:
            if stage.id.split(".", 1)[0] != stage.kind:
                raise ValueError(
                    f"stage {stage.id!r} is a {stage.kind} stage: key it {stage.kind}…"
                )
            if stage.kind in (StageKind.DRAFT, StageKind.PUBLICATION) and stage.id != stage.kind:
                raise ValueError(
                    f"the {stage.kind} stage is keyed {stage.kind!r}, not {stage.id!r}"
                )
        return self

    def stage(self, stage_id: str) -> Stage:
        """The stage with this id; KeyError names it when absent."""
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(stage_id)


def choose_process(
    processes: Mapping[str, ProcessDefinition], title: str, products: list[str]
) -> str:
    """The id of the first process (by id) whose rule takes a line, else `default`."""
    for process_id in sorted(processes):
        rule = processes[process_id].applies_to
        if rule is not None and rule.matches(title, products):
            return process_id
    return "default"
