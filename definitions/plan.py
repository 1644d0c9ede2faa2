"""The plan (Kế hoạch) as data: header, sections, lines and what was noticed while importing it."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from definitions.findings import Finding
from definitions.timeline import Timeline
from definitions.units import Strict

CODE_PATTERN = r"^\d+(\.\d+)*(\.[a-zđ])?$"


class Section(Strict):
    code: str
    title: str


class Group(Strict):
    code: str
    title: str


class ReportingDate(Strict):
    period: str  # "Quý I", "6 tháng", "Quý III", "Năm"
    due: dt.date


class Signer(Strict):
    position: str  # GIÁM ĐỐC, or KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC
    name: str


class Source(Strict):
    name: str  # file name as given
    format: str  # "text" or "docx"
    sha256: str


class PlanLine(Strict):
    code: str = Field(pattern=CODE_PATTERN)
    section: str
    group: str | None = None
    title: str
    lead_text: str
    partners_text: str
    product_text: str
    lead: list[str]
    partners: list[str]
    products: list[str]
    timeline: Timeline
    process: str = "default"
    source_line: int
    warnings: list[Finding] = []


UNITS_DEFAULT = "units.yaml"


class Plan(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    issuer: str
    # The issuing department's unit directory, relative to the definitions folder: two
    # departments' plans side by side each have their own units, organisation and keys.
    units: str = Field(default=UNITS_DEFAULT, pattern=r"^[^./][^:]*\.ya?ml$")
    number: str | None
    place: str | None
    date: dt.date | None
    year: int
    sections: list[Section]
    groups: list[Group] = []
    lines: list[PlanLine]
    reporting_dates: list[ReportingDate] = []
    recipients: list[str] = []  # Nơi nhận
    signer: Signer | None = None
    source: Source
    warnings: list[Finding] = []

    def line(self, code: str) -> PlanLine:
        """The line with this code; KeyError names it when absent."""
        for line in self.lines:
            if line.code == code:
                return line
        raise KeyError(code)
