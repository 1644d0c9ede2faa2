"""The state names of many Prefect flow runs, for `duyet status`: read a page of runs a request,
and of each run only its id and state's name."""

from __future__ import annotations

from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from pydantic import BaseModel, TypeAdapter

# Flow runs per request: the most Prefect's server gives (its PREFECT_SERVER_API_DEFAULT_LIMIT,
# 200 unless raised; a larger limit is refused with a 422).
STATES_PAGE = 200


class _State(BaseModel):
    name: str


class _Run(BaseModel):
    """The two fields read of a flow run; the server sends some forty more."""

    id: str
    state: _State | None


# Prefect's own `read_flow_runs` validates each run as a full `FlowRun`: 0.22 s of CPU for
# 2,000 runs, against 0.007 s for these two fields parsed straight from the JSON.
_RUNS = TypeAdapter(list[_Run])


async def state_names(client: PrefectClient, run_ids: list[str]) -> dict[str, str]:
    """The state name of each run, by run id (one request a run took 10 ms each: 100 s at
    10,000 open cycles). A run Prefect no longer has is left out; a run without a state is ''."""
    ids = [UUID(run_id) for run_id in run_ids]
    found: dict[str, str] = {}
    for start in range(0, len(ids), STATES_PAGE):
        page = FlowRunFilter(id=FlowRunFilterId(any_=ids[start : start + STATES_PAGE]))
        body = {"flow_runs": page.model_dump(mode="json", exclude_unset=True), "limit": STATES_PAGE}
        answer = await client.request("POST", "/flow_runs/filter", json=body)  # raises if refused
        for run in _RUNS.validate_json(answer.content):
            found[run.id] = run.state.name if run.state else ""
    return found
