"""Where deployments run and how many at once (flows/deployments.py `Placement`), from settings:
pure, no server. The scale tier checks the same limits on a live Prefect server."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from definitions.loader import load_plan
from duyet.settings import PROJECT_ROOT, get_settings
from flows.deployments import LOCAL, REVIEW_FLOW, Placement, all_deployments, prefect_yaml

PLAN = load_plan(PROJECT_ROOT / "definitions" / "plans" / "ke-hoach-cchc-2023-svhttdl.yaml")


def test_settings_choose_the_checkout_and_the_limits() -> None:
    placement = Placement.of(
        get_settings(
            {
                "DUYET_CHECKOUT_DIR": "/srv/duyet/checkout",
                "DUYET_POOL_CONCURRENCY": "40",
                "DUYET_LINE_CONCURRENCY": "2",
            }
        )
    )
    assert placement == Placement(40, 2, Path("/srv/duyet/checkout"))
    assert Placement.of(get_settings({})) == LOCAL == Placement()


def test_prefect_yaml_pulls_from_the_checkout_and_limits_each_line() -> None:
    placement = Placement(line_concurrency=2, checkout_dir=Path("/srv/duyet/checkout"))
    data = yaml.safe_load(prefect_yaml(all_deployments([PLAN]), placement))
    [step] = data["pull"]
    assert step["prefect.deployments.steps.set_working_directory"] == {
        "directory": "/srv/duyet/checkout"
    }
    limits = {
        d["entrypoint"].split(":")[1]: d.get("concurrency_limit") for d in data["deployments"]
    }
    assert limits == {"review_cycle": 2, "progress_report": None, "sweeper": 1}


def test_locally_the_pull_step_is_the_folder_deployed_from_and_nothing_is_limited() -> None:
    data = yaml.safe_load(prefect_yaml(all_deployments([PLAN])))
    assert data["pull"][0]["prefect.deployments.steps.set_working_directory"] == {
        "directory": "{{ $PWD }}"
    }
    lines = [d for d in data["deployments"] if d["entrypoint"].endswith(":review_cycle")]
    assert lines and all("concurrency_limit" not in d for d in lines)


@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_limit_below_one_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="line_concurrency"):
        get_settings({"DUYET_LINE_CONCURRENCY": value})


def test_the_line_limit_is_for_review_cycles_only() -> None:
    specs = all_deployments([PLAN])
    placement = Placement(line_concurrency=3)
    assert {placement.concurrency(s) for s in specs if s.flow_name == REVIEW_FLOW} == {3}
