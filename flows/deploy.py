"""Register the deployments on the Prefect API: the `duyet` process work pool, one deployment
per plan line, each plan's periodic report and the sweeper. What `prefect deploy --all` does from
prefect.yaml, in code."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import DeploymentScheduleCreate, WorkPoolCreate, WorkPoolUpdate
from prefect.client.schemas.schedules import CronSchedule, RRuleSchedule
from prefect.exceptions import ObjectNotFound
from prefect.utilities.callables import parameter_schema_from_entrypoint
from prefect.workers.process import ProcessWorker

from flows.deployments import LOCAL, WORK_POOL, DeploymentSpec, Placement, Schedule


def _schedule(schedule: Schedule) -> DeploymentScheduleCreate:
    if schedule.rrule is not None:
        return DeploymentScheduleCreate(
            schedule=RRuleSchedule(rrule=schedule.rrule, timezone=schedule.timezone),
            parameters=schedule.parameters,
        )
    assert schedule.cron is not None
    return DeploymentScheduleCreate(
        schedule=CronSchedule(cron=schedule.cron, timezone=schedule.timezone),
        parameters=schedule.parameters,
    )


async def ensure_work_pool(
    client: PrefectClient, name: str = WORK_POOL, *, concurrency_limit: int | None = None
) -> None:
    """Create the process work pool if it does not exist yet; its concurrency limit is the
    one given (None: no limit), whatever it was."""
    try:
        pool = await client.read_work_pool(name)
    except ObjectNotFound:
        template = ProcessWorker.get_default_base_job_template()
        await client.create_work_pool(
            WorkPoolCreate(
                name=name,
                type="process",
                base_job_template=template,
                concurrency_limit=concurrency_limit,
            )
        )
        return
    if pool.concurrency_limit != concurrency_limit:
        await client.update_work_pool(name, WorkPoolUpdate(concurrency_limit=concurrency_limit))


async def apply(
    client: PrefectClient,
    specs: list[DeploymentSpec],
    *,
    project_dir: Path,
    work_pool: str = WORK_POOL,
    placement: Placement = LOCAL,
) -> dict[str, UUID]:
    """Create or update every deployment; return their ids by full name."""
    await ensure_work_pool(client, work_pool, concurrency_limit=placement.pool_concurrency)
    directory = placement.directory(str(project_dir))
    pull_steps: list[dict[str, Any]] = [
        {"prefect.deployments.steps.set_working_directory": {"directory": directory}}
    ]
    schemas: dict[str, dict[str, Any]] = {}
    flow_ids: dict[str, UUID] = {}
    ids: dict[str, UUID] = {}
    for spec in specs:
        if spec.entrypoint not in schemas:
            schema = parameter_schema_from_entrypoint(str(project_dir / spec.entrypoint))
            schemas[spec.entrypoint] = schema.model_dump_for_openapi()
        if spec.flow_name not in flow_ids:
            flow_ids[spec.flow_name] = await client.create_flow_from_name(spec.flow_name)
        ids[spec.full_name] = await client.create_deployment(
            flow_id=flow_ids[spec.flow_name],
            name=spec.name,
            description=spec.description,
            tags=spec.tags,
            parameters=spec.parameters,
            schedules=[_schedule(s) for s in spec.schedules],
            work_pool_name=work_pool,
            work_queue_name="default",
            entrypoint=spec.entrypoint,
            path=directory,
            pull_steps=pull_steps,
            parameter_openapi_schema=schemas[spec.entrypoint],
            concurrency_limit=placement.concurrency(spec),
            job_variables=placement.job_variables(spec),
        )
    return ids
