"""What the importer and the linter notice about a plan: a code, parameters and a place."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from duyet.messages import FINDINGS


class Severity(StrEnum):
    WARNING = "warning"
    ERROR = "error"


class Finding(BaseModel):
    """One observation; `message` is its Vietnamese wording from `duyet.messages`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    params: dict[str, str | int] = {}
    severity: Severity = Severity.WARNING
    line: int | None = None  # source line (text extract) or block number (.docx)
    subject: str | None = None  # plan line code the finding is about, if any

    @property
    def message(self) -> str:
        return FINDINGS[self.code].format(**self.params)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
