"""The unit directory: the department's units, groups of units, and names that are not units."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnitKind(StrEnum):
    BOARD = "board"  # Ban Giám đốc
    OFFICE = "office"  # Văn phòng
    DEPARTMENT = "department"  # phòng chuyên môn
    INSPECTORATE = "inspectorate"  # Thanh tra Sở
    AFFILIATE = "affiliate"  # đơn vị sự nghiệp trực thuộc
    DISTRICT = "district"  # phòng văn hóa cấp huyện
    EXTERNAL = "external"  # other state bodies (Sở Nội vụ, Sở TTTT…)
    OFFICER = "officer"  # a named post inside a unit (Chuyên viên IT)


class Person(Strict):
    name: str
    title: str
    email: str = Field(pattern=EMAIL_PATTERN)


class Unit(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    kind: UnitKind
    email: str = Field(pattern=EMAIL_PATTERN)
    aliases: list[str] = []
    head: Person | None = None
    parent: str | None = None  # the unit an officer belongs to; escalation goes there
    abbreviation: str | None = None  # used in document symbols: Số: 12/SVHTTDL-VP


class UnitGroup(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    aliases: list[str] = []
    members: list[str]


class NonUnit(Strict):
    """A name that appears where units are expected but is not one (citizens, the public)."""

    id: str
    name: str
    aliases: list[str] = []


class Organisation(Strict):
    name: str
    short_name: str
    code: str  # the symbol part after the number: KH-SVHTTDL
    parent: str  # governing body, first header line: UBND TỈNH BÌNH DƯƠNG
    place: str
    mail_domain: str


class Roles(Strict):
    """Which unit plays each role that process definitions name."""

    director_board: str
    office: str
    records_clerk: str


class UnitDirectory(Strict):
    organisation: Organisation
    roles: Roles
    units: list[Unit]
    groups: list[UnitGroup] = []
    non_units: list[NonUnit] = []

    @model_validator(mode="after")
    def _consistent(self) -> UnitDirectory:
        ids = [u.id for u in self.units] + [g.id for g in self.groups]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate unit or group ids: {', '.join(duplicates)}")
        unit_ids = {u.id for u in self.units}
        known = set(ids)
        for group in self.groups:
            unknown = [m for m in group.members if m not in known]
            if unknown:
                raise ValueError(f"group {group.id} has unknown members: {', '.join(unknown)}")
        for unit in self.units:
            if unit.parent is not None and unit.parent not in unit_ids:
                raise ValueError(f"unit {unit.id} has unknown parent {unit.parent}")
        for role, unit_id in self.roles.model_dump().items():
            if unit_id not in unit_ids:
                raise ValueError(f"role {role} names unknown unit {unit_id}")
        return self

    def unit(self, unit_id: str) -> Unit:
        """The unit with this id; KeyError names it when absent."""
        for unit in self.units:
            if unit.id == unit_id:
                return unit
        raise KeyError(unit_id)

    def is_group(self, ref: str) -> bool:
        return any(g.id == ref for g in self.groups)

    def expand(self, ref: str) -> list[str]:
        """Unit ids a unit or group id stands for, groups expanded recursively, in order."""
        for group in self.groups:
            if group.id == ref:
                seen: list[str] = []
                for member in group.members:
                    seen.extend(m for m in self.expand(member) if m not in seen)
                return seen
        return [self.unit(ref).id]
