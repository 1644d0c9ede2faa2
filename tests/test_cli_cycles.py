"""`duyet start|status|cancel` with two departments' plans side by side: a line code both plans
have needs `--plan`, and the error names the plans. No Prefect server: these stop before it.
Then how `duyet status` reads many cycles at once: judged as `evaluate` judges each, their runs'
states a page of runs a request."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from prefect.client.orchestration import PrefectClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from definitions.loader import load_plan
from definitions.stage_rules import Stage, Verdict
from duyet import cycle_views
from duyet.cli import app
from duyet.cycle_views import views_of
from duyet.definition_files import definitions
from duyet.engine import evaluate
from duyet.flow_run_states import STATES_PAGE, state_names
from duyet.records_bridge import record_import
from duyet.settings import PROJECT_ROOT, Settings, get_settings
from records.cycle_reads import get_cycle
from records.cycles import advance_stage, cancel_cycle, open_cycle
from records.decisions import record_decision
from records.documents import submit_version
from records.engine import session_scope
from records.migrate import upgrade
from records.models import ReviewCycle
from tests.databases import pg_database
from tests.factories import OTHER_PLAN, OTHER_UNITS

SEED_PLAN = "ke-hoach-cchc-2023-svhttdl"
runner = CliRunner()


@pytest.fixture
def two_plans(isolated_env: Path) -> Path:
    definitions = isolated_env / "definitions"
    shutil.copy(PROJECT_ROOT / "definitions" / OTHER_UNITS, definitions / OTHER_UNITS)
    for plan in (SEED_PLAN, OTHER_PLAN):
        shutil.copy(PROJECT_ROOT / "definitions" / "plans" / f"{plan}.yaml", definitions / "plans")
    return definitions


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "300"})
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize("command", ["start", "status", "cancel"])
def test_a_code_in_both_plans_needs_the_plan(two_plans: Path, command: str) -> None:
    code, output = invoke(command, "1.1")
    assert code == 2
    assert "Dòng 1.1 có trong 2 kế hoạch" in output and "--plan" in output
    assert SEED_PLAN in output and OTHER_PLAN in output


def test_a_code_in_no_plan_and_an_unknown_plan_are_named(two_plans: Path) -> None:
    assert invoke("start", "9.9") == (2, "Lỗi: Không kế hoạch nào đã nhập có dòng 9.9.")
    code, output = invoke("start", "1.1", "--plan", "khong-co")
    assert code == 2 and "Không có kế hoạch khong-co" in output


def test_without_a_code_several_plans_are_listed(two_plans: Path) -> None:
    code, output = invoke("start", "--section", "2")
    assert code == 2 and f"Có 2 kế hoạch đã nhập ({SEED_PLAN}, {OTHER_PLAN})" in output


def test_a_code_only_one_plan_has_picks_that_plan(two_plans: Path) -> None:
    # 2.2.đ is the seed's only: the plan is found, and nothing is open to cancel there.
    code, output = invoke("cancel", "2.2.đ")
    assert code == 2 and "Dòng 2.2.đ không có chu trình nào đang mở" in output


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def records(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """A migrated records database with the seed plan recorded, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield _seeded(tmp_path, f"sqlite:///{tmp_path / 'records.db'}")
    else:
        for url in pg_database(request.getfixturevalue("pg_admin")):  # dropped when resumed
            yield _seeded(tmp_path, url)


def _seeded(tmp_path: Path, url: str) -> Settings:
    settings = get_settings({"DUYET_VAR_DIR": str(tmp_path), "DUYET_DATABASE_URL": url})
    upgrade(settings.database_url)
    plan = load_plan(PROJECT_ROOT / "definitions" / "plans" / f"{SEED_PLAN}.yaml")
    record_import(plan, settings=settings, actor="test")
    return settings


def _put_up(session: Session, cycle_id: str, text: str) -> str:
    version = submit_version(
        session,
        cycle_id=cycle_id,
        content=text.encode(),
        filename="du-thao.txt",
        media_type="text/plain",
        submitted_by="test",
        max_bytes=1024,
    )
    advance_stage(session, cycle_id=cycle_id, target=Stage.REVIEW, actor="test")
    return version.sha256


def _answer(session: Session, cycle_id: str, unit: str, sha256: str, verdict: Verdict) -> None:
    cycle = get_cycle(session, cycle_id=cycle_id)
    record_decision(
        session,
        cycle_id=cycle_id,
        stage=cycle.stage,
        round=cycle.round,
        reviewer_unit=unit,
        reviewer_person=None,
        verdict=verdict,
        comment=f"Ý kiến của {unit}",
        document_sha256=sha256,
    )


def test_cycles_listed_at_once_are_judged_as_one_by_one(
    records: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `duyet status` reads them all in a few queries; each must still be what `evaluate` says:
    # at draft (with and without a version of its round), at review with answers of this round
    # and of an earlier one, at approval, closed.
    monkeypatch.setattr(cycle_views, "IDS_PER_QUERY", 2)  # several chunks of ids
    defs, now = definitions(records), dt.datetime.now(dt.UTC)
    with session_scope(records.database_url) as session:
        opened = {
            code: open_cycle(session, plan_key=SEED_PLAN, line_code=code, opened_by="test").id
            for code in ("2.1.a", "2.1.b", "2.1.c", "6.2", "6.3", "1.1", "2.2.a")
        }
        sha = _put_up(session, opened["2.1.a"], "vòng 1")
        first = evaluate(session, defs, cycle_id=opened["2.1.a"], now=now).expected
        _answer(session, opened["2.1.a"], first[0], sha, Verdict.CHANGES)
        advance_stage(
            session, cycle_id=opened["2.1.a"], target=Stage.DRAFT, actor="test", round_change=1
        )
        sha = _put_up(session, opened["2.1.a"], "vòng 2")
        _answer(session, opened["2.1.a"], first[1], sha, Verdict.APPROVE)
        sha = _put_up(session, opened["2.1.b"], "vòng 1")
        for unit in evaluate(session, defs, cycle_id=opened["2.1.b"], now=now).expected[:2]:
            _answer(session, opened["2.1.b"], unit, sha, Verdict.APPROVE)
        _put_up(session, opened["2.1.c"], "vòng 1")  # then sent back: no version of round 2
        advance_stage(
            session, cycle_id=opened["2.1.c"], target=Stage.DRAFT, actor="test", round_change=1
        )
        _put_up(session, opened["6.2"], "vòng 1")
        advance_stage(session, cycle_id=opened["6.2"], target=Stage.APPROVAL, actor="test")
        _put_up(session, opened["6.3"], "vòng 1")
        cancel_cycle(session, cycle_id=opened["6.3"], actor="test", reason="thử")
    with session_scope(records.database_url) as session:
        cycles = list(session.scalars(select(ReviewCycle).order_by(ReviewCycle.opened_at)))
        together = views_of(session, defs, cycles, now=now)
        alone = [evaluate(session, defs, cycle_id=cycle.id, now=now) for cycle in cycles]
    assert together == alone
    answered = {view.code: len(view.answers) for view in together if view.answers}
    assert answered == {"2.1.a": 1, "2.1.b": 2}  # 2.1.a: its second round's only


class _Prefect:
    """Prefect's API as `state_names` uses it: `/flow_runs/filter`, the runs it knows."""

    def __init__(self, runs: dict[str, str | None]) -> None:
        self.runs = runs
        self.asked: list[dict[str, Any]] = []

    async def request(self, method: str, path: str, json: dict[str, Any]) -> httpx.Response:
        assert (method, path) == ("POST", "/flow_runs/filter")
        self.asked.append(json)
        ids = json["flow_runs"]["id"]["any_"][: json["limit"]]
        return httpx.Response(
            200,
            json=[
                {"id": run_id, "name": "x", "state": self._state(run_id)}
                for run_id in ids
                if run_id in self.runs
            ],
        )

    def _state(self, run_id: str) -> dict[str, Any] | None:
        name = self.runs[run_id]
        return None if name is None else {"type": "PAUSED", "name": name}


def test_the_states_of_many_runs_are_read_a_page_a_request() -> None:
    ids = [str(uuid.uuid4()) for _ in range(2 * STATES_PAGE + 1)]
    runs: dict[str, str | None] = {run_id: "Suspended" for run_id in ids[1:]}  # 1st: gone
    runs[ids[2]] = None
    prefect = _Prefect(runs)
    found = asyncio.run(state_names(cast(PrefectClient, prefect), ids))
    assert len(prefect.asked) == 3 and {a["limit"] for a in prefect.asked} == {STATES_PAGE}
    assert found == {run_id: name or "" for run_id, name in runs.items()}
