"""Refusals of the records store; each has a code and a Vietnamese `message` for the user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from definitions.stage_rules import IllegalTransition
from duyet.messages import RECORD_ERRORS, STAGES

if TYPE_CHECKING:
    from records.models import Decision

__all__ = [
    "AlreadyDecided",
    "AlreadyPublished",
    "CycleClosed",
    "CycleMoved",
    "CycleUnknown",
    "Decided",
    "DocumentTooLarge",
    "IllegalTransition",
    "LineUnknown",
    "MailUnknown",
    "MediaTypeRefused",
    "NoDocument",
    "NumberNotIssued",
    "PublicationUnknown",
    "RecordError",
    "SchemaNotCurrent",
    "TokenExpired",
    "TokenRevoked",
    "TokenUnknown",
    "TokenUsed",
    "VersionExists",
    "VersionUnchanged",
]


class RecordError(Exception):
    """Base of every refusal; `params` fill the Vietnamese message."""

    code: ClassVar[str]

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(f"{self.code}: {params}" if params else self.code)

    @property
    def message(self) -> str:
        params = dict(self.params)
        if "stage" in params:
            params["stage"] = STAGES.get(params["stage"], params["stage"])
        return RECORD_ERRORS[self.code].format(**params)


@dataclass(frozen=True)
class Decided:
    """A decision on record, as a refusal carries it: plain data that outlives the rollback."""

    id: int
    cycle_id: str
    stage: str
    round: int
    reviewer_unit: str
    reviewer_person: str | None
    verdict: str
    comment: str
    document_sha256: str
    decided_at: datetime

    @classmethod
    def of(cls, decision: Decision) -> Decided:
        return cls(
            id=decision.id,
            cycle_id=decision.cycle_id,
            stage=decision.stage,
            round=decision.round,
            reviewer_unit=decision.reviewer_unit,
            reviewer_person=decision.reviewer_person,
            verdict=decision.verdict,
            comment=decision.comment,
            document_sha256=decision.document_sha256,
            decided_at=decision.decided_at,
        )


class AlreadyDecided(RecordError):
    code = "already-decided"

    def __init__(self, existing: Decision) -> None:
        self.existing = Decided.of(existing)
        super().__init__(unit=existing.reviewer_unit, stage=existing.stage, round=existing.round)


class TokenUnknown(RecordError):
    code = "token-unknown"


class TokenExpired(RecordError):
    code = "token-expired"


class TokenRevoked(RecordError):
    code = "token-revoked"


class TokenUsed(RecordError):
    """The link was already used; `decision` is what was decided through it, if anything."""

    code = "token-used"

    def __init__(self, decision: Decision | None) -> None:
        self.decision = Decided.of(decision) if decision is not None else None
        super().__init__()


class DocumentTooLarge(RecordError):
    code = "document-too-large"


class MediaTypeRefused(RecordError):
    code = "media-type-refused"


class VersionExists(RecordError):
    code = "version-exists"


class VersionUnchanged(RecordError):
    code = "version-unchanged"


class NoDocument(RecordError):
    code = "no-document"


class CycleUnknown(RecordError):
    code = "cycle-unknown"


class CycleMoved(RecordError):
    """The cycle is no longer at the stage and round the request was made for."""

    code = "cycle-moved"


class CycleClosed(RecordError):
    code = "cycle-closed"


class LineUnknown(RecordError):
    code = "line-unknown"


class MailUnknown(RecordError):
    code = "mail-unknown"


class SchemaNotCurrent(RecordError):
    code = "schema-not-current"


class AlreadyPublished(RecordError):
    """The cycle already issued its document: `number` and `symbol` say which."""

    code = "already-published"


class NumberNotIssued(RecordError):
    """A publication with a number the register has not given out (it would leave a gap)."""

    code = "number-not-issued"


class PublicationUnknown(RecordError):
    code = "publication-unknown"
