"""`GET /healthz`: 200 when the portal, its records database and the Prefect API answer."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from portal.deps import PortalDep
from records.engine import shared_engine

router = APIRouter(tags=["health"])
Check = Literal["ok", "unreachable", "not-configured"]


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Check
    prefect: Check


def _database(url: str) -> Check:
    try:
        with shared_engine(url).connect() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return "unreachable"
    return "ok"


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(portal: PortalDep) -> JSONResponse:
    database = await run_in_threadpool(_database, portal.settings.database_url)
    prefect: Check = "not-configured"
    if portal.orchestrator.api_url is not None:
        prefect = "ok" if await portal.orchestrator.healthy() else "unreachable"
    healthy = database == "ok" and prefect == "ok"
    body = Health(status="ok" if healthy else "unavailable", database=database, prefect=prefect)
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)
