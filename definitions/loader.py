"""The one place definitions are read from and written to YAML."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from definitions.plan import Plan
from definitions.process import ProcessDefinition
from definitions.units import UnitDirectory
from definitions.workdays import CalendarConfig, WorkCalendar

M = TypeVar("M", bound=BaseModel)


class DefinitionError(Exception):
    """A definition file is missing, not YAML, or does not match its model; names file and field."""


def load_model(path: Path, model: type[M]) -> M:
    """Read `path` as YAML and validate it as `model`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DefinitionError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise DefinitionError(f"{path}: {details}") from exc


def load_units(path: Path) -> UnitDirectory:
    return load_model(path, UnitDirectory)


def load_process(path: Path) -> ProcessDefinition:
    return load_model(path, ProcessDefinition)


def load_processes(directory: Path) -> dict[str, ProcessDefinition]:
    """Every process definition in `directory`, by id."""
    processes = [load_process(p) for p in sorted(directory.glob("*.yaml"))]
    return {p.id: p for p in processes}


def load_calendar(path: Path) -> WorkCalendar:
    """The working-day calendar; public holidays only when the file is absent."""
    if not path.exists():
        return WorkCalendar()
    return WorkCalendar(load_model(path, CalendarConfig))


def load_plan(path: Path) -> Plan:
    return load_model(path, Plan)


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan as plain data, the shape its YAML file holds."""
    return plan.model_dump(mode="json", exclude_defaults=False)


def write_yaml(data: dict[str, Any], path: Path) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_plan(plan: Plan, path: Path) -> None:
    write_yaml(plan_document(plan), path)
