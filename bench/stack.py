"""The stack the measures run against: exactly what `duyet up` starts (Prefect server, process
worker with its poll settings, portal under uvicorn, outbox sender), its data in a folder of its
own, its mail going to the bench's `Sink`; plus the baseline flow deployed on the same pool."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import create_engine, make_url, text

from bench.bare_flow import BARE_ENTRYPOINT, BARE_FLOW
from bench.common import free_port
from bench.sink import Sink
from duyet.settings import PROJECT_ROOT, Settings
from duyet.up import Stack, up
from flows.deploy import apply
from flows.deployments import DeploymentSpec
from records import migrate

PG_ADMIN_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"


@dataclass
class BenchStack:
    up: Stack
    sink: Sink
    db: str  # sqlite | postgresql
    bare_deployment_id: UUID

    @property
    def settings(self) -> Settings:
        return self.up.settings

    @property
    def portal_url(self) -> str:
        return self.up.portal_url

    @property
    def api_url(self) -> str:
        return self.up.env["PREFECT_API_URL"]

    @property
    def logs(self) -> Path:
        return self.settings.var_dir / "logs"

    def pid(self, child: str) -> int:
        """The process id of one of `duyet up`'s children (worker, portal, sender…)."""
        for found in self.up.supervisor.children:
            if found.name == child and found.process is not None:
                return found.process.pid
        raise KeyError(child)

    @contextlib.contextmanager
    def prefect(self) -> Iterator[None]:
        """Prefect client code in this block talks to this stack's server."""
        with temporary_settings(updates={PREFECT_API_URL: self.api_url}):
            yield

    def log_count(self, needle: str, *children: str) -> int:
        """How many times `needle` appears in the logs of `children` (all when none named)."""
        names = children or tuple(c.name for c in self.up.supervisor.children)
        paths = [self.logs / f"{name}.log" for name in names]
        return sum(p.read_text(errors="replace").count(needle) for p in paths if p.exists())


def _environ(
    root: Path, sink: Sink, database_url: str | None, prefect_url: str | None
) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DUYET_", "PREFECT_"))}
    portal_port = free_port()
    env = keep | {
        "DUYET_VAR_DIR": str(root / "var"),
        "DUYET_PORTAL_PORT": str(portal_port),
        "DUYET_PREFECT_PORT": str(free_port()),
        "DUYET_PUBLIC_BASE_URL": f"http://127.0.0.1:{portal_port}",
        "DUYET_SECRET_KEY": secrets.token_urlsafe(32),
        "DUYET_SMTP_HOST": "127.0.0.1",
        "DUYET_SMTP_PORT": str(sink.port),
    }
    if database_url:
        env["DUYET_DATABASE_URL"] = database_url
    if prefect_url:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = prefect_url
    return env


async def _prepare(api_url: str) -> UUID:
    """Pause the sweeper (its 5-minute runs would be noise here) and deploy the baseline flow."""
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        async with get_client() as client:
            sweeper = await client.read_deployment_by_name("sweeper/sweeper")
            await client.pause_deployment(sweeper.id)
            bare = DeploymentSpec(
                flow_name=BARE_FLOW,
                name="bare",
                entrypoint=BARE_ENTRYPOINT,
                description="Baseline: suspend, then one mail.",
                tags=["bench"],
                parameters={},
                forked=False,  # Prefect's own `python -m prefect.engine` per run
            )
            ids = await apply(client, [bare], project_dir=PROJECT_ROOT)
    return ids[f"{BARE_FLOW}/bare"]


@contextlib.contextmanager
def pg_database(admin_url: str, driver: str = "postgresql+psycopg") -> Iterator[str]:
    """A fresh database on the PostgreSQL server, dropped afterwards; its URL for `driver`."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"duyet_bench_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin_url).set(drivername=driver, database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def running(db: str = "sqlite") -> Iterator[BenchStack]:
    """`duyet up` on free ports; records and Prefect's database on SQLite (`duyet up`'s
    default), or both on fresh PostgreSQL databases."""
    root = Path(tempfile.mkdtemp(prefix=f"duyet-bench-{db}-"))
    sink = Sink().start()
    try:
        with contextlib.ExitStack() as cleanup:
            url = prefect_url = None
            if db == "postgresql":  # the records and Prefect's own database
                admin = os.environ.get("DUYET_BENCH_PG_URL") or os.environ.get(
                    "DUYET_TEST_PG_URL", PG_ADMIN_URL
                )
                url = cleanup.enter_context(pg_database(admin))
                migrate.upgrade(url)  # `duyet db upgrade`: at scale, once per release
                prefect_url = cleanup.enter_context(pg_database(admin, "postgresql+asyncpg"))
            stack = up(_environ(root, sink, url, prefect_url))
            cleanup.callback(stack.supervisor.stop)
            bare_id = asyncio.run(_prepare(stack.env["PREFECT_API_URL"]))
            yield BenchStack(up=stack, sink=sink, db=db, bare_deployment_id=bare_id)
    finally:
        sink.stop()
        if not os.environ.get("DUYET_BENCH_KEEP"):  # keep the logs to look into a run
            shutil.rmtree(root, ignore_errors=True)
