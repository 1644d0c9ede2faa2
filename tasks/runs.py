"""Tasks that talk to the Prefect API about runs (not about the department's records)."""

from __future__ import annotations

from uuid import UUID

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from pydantic import BaseModel, ConfigDict


class RunName(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    flow_run_id: str
    name: str


@task(retries=3, retry_delay_seconds=2, cache_policy=NO_CACHE, persist_result=False)
def rename_run(request: RunName) -> None:
    """Show the round in the run's name (`2.2.đ · vòng 2`); renaming twice is harmless."""
    with get_client(sync_client=True) as client:
        client.update_flow_run(UUID(request.flow_run_id), name=request.name)
