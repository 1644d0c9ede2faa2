"""Who a mail goes to: unit and group ids expanded through the unit directory, heads of units."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from definitions.units import Unit, UnitDirectory
from duyet.messages import MAIL_SALUTATIONS


@dataclass(frozen=True)
class Recipient:
    """One mail's addressee: the unit it is about, where it goes, how it is addressed."""

    unit_id: str
    email: str
    salutation: str


def units_of(directory: UnitDirectory, refs: Iterable[str]) -> list[Unit]:
    """The units that unit and group ids stand for, in order, once each.

    Anything else (raw text kept by the importer, names that are not units) gets no mail.
    """
    known = {unit.id for unit in directory.units} | {group.id for group in directory.groups}
    found: list[Unit] = []
    for ref in refs:
        if ref in known:
            found.extend(u for u in map(directory.unit, directory.expand(ref)) if u not in found)
    return found


def of_unit(unit: Unit) -> Recipient:
    return Recipient(unit.id, unit.email, unit.name)


def head_of(directory: UnitDirectory, unit_id: str) -> Recipient:
    """The head a late unit is escalated to: its own, else its parent unit's (an officer's).

    A unit whose head the directory does not name is written to as "Thủ trưởng <unit>".
    """
    unit = directory.unit(unit_id)
    ladder = [unit, directory.unit(unit.parent)] if unit.parent else [unit]
    for step in ladder:
        if step.head is not None:
            salutation = MAIL_SALUTATIONS["head"].format(
                name=step.head.name, title=step.head.title, unit=step.name
            )
            return Recipient(unit.id, step.head.email, salutation)
    return Recipient(unit.id, unit.email, MAIL_SALUTATIONS["no-head"].format(unit=unit.name))


def unit_name(directory: UnitDirectory, ref: str) -> str:
    """A unit's name, or the ref itself when it is not a unit."""
    try:
        return directory.unit(ref).name
    except KeyError:
        return ref
