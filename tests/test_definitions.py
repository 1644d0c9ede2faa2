"""Every shipped definition file loads and validates; bad definitions name file and field."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

import pytest

from definitions.loader import (
    DefinitionError,
    load_calendar,
    load_model,
    load_plan,
    load_process,
    load_processes,
    load_units,
)
from definitions.process import ProcessDefinition, StageKind
from definitions.units import UnitDirectory
from duyet.definition_files import _definitions
from duyet.settings import PROJECT_ROOT

DEFINITIONS = PROJECT_ROOT / "definitions"


def test_unit_directory_loads_and_every_email_is_reserved(directory: UnitDirectory) -> None:
    emails = [u.email for u in directory.units]
    emails += [u.head.email for u in directory.units if u.head]
    assert all(e.endswith(".example") for e in emails)
    assert directory.unit(directory.roles.director_board).kind == "board"


@pytest.mark.parametrize("path", sorted((DEFINITIONS / "processes").glob("*.yaml")), ids=str)
def test_every_process_definition_loads(path: Path) -> None:
    process = load_process(path)
    assert process.stages[0].kind == StageKind.DRAFT


def test_calendar_loads() -> None:
    calendar = load_calendar(DEFINITIONS / "calendar.yaml")
    assert calendar.is_working_day(dt.date(2024, 5, 4))  # a make-up Saturday


def test_default_process_has_the_four_stages() -> None:
    process = load_processes(DEFINITIONS / "processes")["default"]
    assert [s.kind for s in process.stages] == ["draft", "review", "approval", "publication"]


@pytest.mark.parametrize("path", sorted((DEFINITIONS / "plans").glob("*.yaml")), ids=str)
def test_every_shipped_plan_loads(path: Path) -> None:
    assert load_plan(path).lines


def test_every_yaml_file_in_definitions_is_covered() -> None:
    shipped = {p.relative_to(DEFINITIONS) for p in DEFINITIONS.rglob("*.yaml")}
    covered = {Path("units.yaml"), Path("calendar.yaml")}
    covered |= {p.relative_to(DEFINITIONS) for p in (DEFINITIONS / "processes").glob("*.yaml")}
    covered |= {p.relative_to(DEFINITIONS) for p in (DEFINITIONS / "plans").glob("*.yaml")}
    covered |= {Path(load_plan(p).units) for p in (DEFINITIONS / "plans").glob("*.yaml")}
    assert shipped == covered


@pytest.mark.parametrize("path", sorted((DEFINITIONS / "plans").glob("*.yaml")), ids=str)
def test_every_plan_names_a_unit_directory_that_loads(path: Path) -> None:
    directory = load_units(DEFINITIONS / load_plan(path).units)
    assert directory.organisation.mail_domain.endswith(".example")


@pytest.mark.parametrize("path", sorted((DEFINITIONS / "plans").glob("*.yaml")), ids=str)
def test_every_unit_the_plans_processes_name_is_in_its_directory(path: Path) -> None:
    # A unit a process names but the directory lacks would leave a stage without actors.
    plan = load_plan(path)
    directory = load_units(DEFINITIONS / plan.units)
    processes = load_processes(DEFINITIONS / "processes")
    named: set[str] = set()
    for process_id in {line.process for line in plan.lines}:
        for stage in processes[process_id].stages:
            for actors in [stage.actors, *getattr(stage, "recipients", [])]:
                named |= set(getattr(actors, "units", []))
            issuing = getattr(stage, "issuing", None)
            named |= {issuing.issuer} if issuing is not None and issuing.issuer else set()
    known = {unit.id for unit in directory.units} | {group.id for group in directory.groups}
    assert named <= known


def test_unknown_field_is_refused_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text(
        "id: p\nname: P\nstages:\n  - {id: draft, kind: draft, name: D, deadline_days: 1,"
        " colour: red}\n  - {id: pub, kind: publication, name: P, deadline_days: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError, match=r"p\.yaml: stages\.0\.draft\.colour"):
        load_process(bad)


def test_a_process_must_start_with_draft_and_end_with_publication(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text(
        "id: p\nname: P\nstages:\n  - {id: review, kind: review, name: R, deadline_days: 1}\n"
        "  - {id: pub, kind: publication, name: P, deadline_days: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError, match="draft"):
        load_model(bad, ProcessDefinition)


def test_a_directory_with_an_unknown_group_member_is_refused(tmp_path: Path) -> None:
    text = (DEFINITIONS / "units.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "units.yaml"
    bad.write_text(text.replace("members: [trung-tam-van-hoa,", "members: [nobody,"), "utf-8")
    with pytest.raises(DefinitionError, match="unknown members: nobody"):
        load_units(bad)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="not found"):
        load_units(tmp_path / "none.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [b", encoding="utf-8")
    with pytest.raises(DefinitionError, match="not valid YAML"):
        load_units(broken)


def test_pinned_definitions_read_each_plan_once_and_a_new_pin_sees_a_re_import(
    tmp_path: Path,
) -> None:
    root = tmp_path / "definitions"
    shutil.copytree(PROJECT_ROOT / "definitions", root)
    plan_path = root / "plans" / "ke-hoach-cchc-2023-svhttdl.yaml"
    defs = _definitions(root, "Asia/Ho_Chi_Minh")
    pinned = defs.pinned()
    title = pinned.plan("ke-hoach-cchc-2023-svhttdl").title
    assert pinned.units("ke-hoach-cchc-2023-svhttdl") == defs.units("ke-hoach-cchc-2023-svhttdl")
    plan_path.write_text(
        plan_path.read_text(encoding="utf-8").replace("title: ", "title: Đã sửa - ", 1),
        encoding="utf-8",
    )
    os.utime(plan_path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    assert pinned.plan("ke-hoach-cchc-2023-svhttdl").title == title  # one state for one page
    assert defs.pinned().plan("ke-hoach-cchc-2023-svhttdl").title == f"Đã sửa - {title}"
    assert defs.plan("ke-hoach-cchc-2023-svhttdl").title == f"Đã sửa - {title}"
