"""Who acts at a stage of a line's cycle, and who receives what it publishes: unit ids."""

from __future__ import annotations

from definitions.plan import PlanLine
from definitions.process import Actors, LeadActors, PartnerActors, RoleActors, Stage
from definitions.units import UnitDirectory


def _units(directory: UnitDirectory, refs: list[str]) -> list[str]:
    """Unit ids for unit and group refs, in order; raw text (not a unit) is dropped."""
    known = {u.id for u in directory.units} | {g.id for g in directory.groups}
    found: list[str] = []
    for ref in refs:
        if ref in known:
            found.extend(u for u in directory.expand(ref) if u not in found)
    return found


def lead_units(line: PlanLine, directory: UnitDirectory) -> list[str]:
    """The lead units; a line without one is led by the Office, which runs the plan."""
    return _units(directory, line.lead) or [directory.roles.office]


def resolve(actors: Actors, line: PlanLine, directory: UnitDirectory) -> list[str]:
    """The unit ids `actors` stands for on `line`."""
    if isinstance(actors, LeadActors):
        return lead_units(line, directory)
    if isinstance(actors, PartnerActors):
        lead = set(lead_units(line, directory))
        return [u for u in _units(directory, line.partners) if u not in lead]
    if isinstance(actors, RoleActors):
        return [getattr(directory.roles, actors.role)]
    return _units(directory, actors.units)


def stage_actors(stage: Stage, line: PlanLine, directory: UnitDirectory) -> list[str]:
    """Who must act at `stage` (the draft's author, the reviewers, the approvers)."""
    return resolve(stage.actors, line, directory)


def recipients(stage: Stage, line: PlanLine, directory: UnitDirectory) -> list[str]:
    """Who receives the published document (Nơi nhận), for a publication stage."""
    found: list[str] = []
    for actors in getattr(stage, "recipients", []):
        found.extend(u for u in resolve(actors, line, directory) if u not in found)
    return found
