"""Prefect's distributed setup on this machine, each part its own process: two API replicas
(`--no-services`) and one `prefect server services start` on a fresh PostgreSQL database with
Redis messaging, two process workers on the `duyet` pool, the portal and the outbox sender on a
fresh PostgreSQL records database, an SMTP sink. Only settings differ from `duyet up`
(docs/deploy.md); the scale tier and `python -m bench.throughput --setup scale` run on it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import make_url

from bench.sink import Sink
from definitions.loader import load_plan
from duyet.settings import PROJECT_ROOT, Settings, get_settings
from duyet.supervisor import Child, http_ok, wait_until
from duyet.up import children, deploy_all, first_start
from records import migrate
from records.engine import dispose_engines
from tests.databases import pg_admin_engine, pg_database
from tests.prefect_server import (
    PREFECT,
    WORKER,
    descendants,
    free_port,
    prefect_env,
    run_processes,
)

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
CLAIM = "duyet-scale:claimed"


def redis_settings(host: str, port: int, db: int) -> dict[str, str]:
    """What makes several Prefect API processes one server: Redis for events, their cache and
    ordering, concurrency leases, the worker cleanup queue and the background services' Docket."""
    return {
        "PREFECT_MESSAGING_BROKER": "prefect_redis.messaging",
        "PREFECT_MESSAGING_CACHE": "prefect_redis.messaging",
        "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
        "PREFECT_SERVER_WORKER_CHANNEL_CLEANUP_QUEUE_STORAGE": "prefect_redis.cleanup_queue",
        "PREFECT_REDIS_MESSAGING_HOST": host,
        "PREFECT_REDIS_MESSAGING_PORT": str(port),
        "PREFECT_REDIS_MESSAGING_DB": str(db),
        "PREFECT_SERVER_DOCKET_URL": f"redis://{host}:{port}/{db}",
    }


@dataclass
class Cluster:
    root: Path
    settings: Settings
    sink: Sink
    apis: list[Child]
    workers: list[Child]
    others: list[Child]  # services, portal, sender
    db: str = "postgresql"

    @property
    def api_urls(self) -> list[str]:
        return [child.env["PREFECT_API_URL"] for child in self.apis]

    @property
    def portal_url(self) -> str:
        return self.settings.require_public_base_url()

    def lines(self, per_plan: int | None = None) -> list[tuple[str, str]]:
        """(plan id, code) of every line of every plan, or of the first `per_plan` of each."""
        found = []
        for path in sorted(self.settings.plans_dir.glob("*.yaml")):
            plan = load_plan(path)
            found += [(plan.id, line.code) for line in plan.lines[:per_plan]]
        return found

    def prefect(self) -> contextlib.AbstractContextManager[object]:
        """Prefect client code in this block talks to the first API (the portal's)."""
        return temporary_settings(updates={PREFECT_API_URL: self.api_urls[0]})

    def log_count(self, needle: str, *children: str) -> int:
        """How often `needle` is in the logs of the processes whose names start with one of
        `children` (all when none named): `worker` is both workers, `prefect-server` the APIs
        and the services."""
        paths = [c.log for c in [*self.apis, *self.workers, *self.others]]
        chosen = [p for p in paths if not children or p.stem.startswith(children)]
        return sum(p.read_text(errors="replace").count(needle) for p in chosen if p.exists())

    def kill(self, child: Child) -> int:
        """SIGKILL the process and every process under it (a worker's flow runs live in sessions
        of their own): a machine lost, with the runs it was running; how many were under it."""
        assert child.process is not None
        below = descendants(child.process.pid)
        runs = run_processes(child.process.pid)
        for pid in [child.process.pid, *below]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        child.process.wait(timeout=10)
        return len(runs)

    def busy(self, child: Child) -> bool:
        """Whether the worker runs a flow run now (a process under its fork server other than
        the worker beside it)."""
        return child.process is not None and bool(run_processes(child.process.pid))

    def restart(self, child: Child, timeout: float = 90) -> None:
        """Start a killed API again, as its service manager would (systemd `Restart=`)."""
        child.start()
        health = child.env["PREFECT_API_URL"] + "/health"
        assert wait_until(lambda: http_ok(health), timeout=timeout), child.log.read_text()


def _start(child: Child, health: str | None = None, timeout: float = 90) -> Child:
    child.start()
    if health and not wait_until(lambda: http_ok(health), timeout=timeout):
        child.stop()
        raise RuntimeError(f"{child.name} did not answer: {child.log.read_text()[-3000:]}")
    return child


@contextlib.contextmanager
def redis_db() -> Iterator[int]:
    """A Redis database of its own: an empty one, claimed (two runs of the tier at once, or
    another user of the server, keep theirs), emptied afterwards. Docket's keys carry its
    name, so messaging and Docket share it."""
    token = secrets.token_hex(8)
    for db in range(15, 0, -1):
        with redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db) as client:
            if client.dbsize() == 0 and client.set(CLAIM, token, nx=True, ex=3600):
                break
    else:
        raise RuntimeError(f"no empty Redis database at {REDIS_HOST}:{REDIS_PORT}")
    try:
        yield db
    finally:
        with redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db) as client:
            client.flushdb()


@contextlib.contextmanager
def running_cluster(root: Path, *, env: dict[str, str] | None = None) -> Iterator[Cluster]:
    """Start the cluster under `root` (settings in `env` on top); stop it and drop its
    databases and Redis data afterwards."""
    with contextlib.ExitStack() as cleanup:
        admin = cleanup.enter_context(contextlib.contextmanager(pg_admin_engine)())
        fresh = contextlib.contextmanager(pg_database)
        records = cleanup.enter_context(fresh(admin, "duyet_scale"))
        # This process's pooled connections to it closed before it is dropped, not left to
        # the garbage collector (a ResourceWarning in whichever test runs then).
        cleanup.callback(dispose_engines, records)
        prefect_db = cleanup.enter_context(fresh(admin, "prefect_scale"))
        db = cleanup.enter_context(redis_db())
        sink = Sink().start()
        cleanup.callback(sink.stop)
        yield _cluster(root, records, prefect_db, db, sink, env or {}, cleanup)


def _cluster(
    root: Path,
    records_url: str,
    prefect_url: str,
    redis_number: int,
    sink: Sink,
    extra: dict[str, str],
    cleanup: contextlib.ExitStack,
) -> Cluster:
    definitions = root / "definitions"
    shutil.copytree(
        PROJECT_ROOT / "definitions",
        definitions,
        ignore=shutil.ignore_patterns("*.py", "__pycache__", "seed"),
    )
    portal_port = free_port()
    duyet_env = {
        "DUYET_VAR_DIR": str(root / "var"),
        "DUYET_DATABASE_URL": records_url,
        "DUYET_DEFINITIONS_DIR": str(definitions),
        "DUYET_SECRET_KEY": secrets.token_urlsafe(32),
        "DUYET_PUBLIC_BASE_URL": f"http://127.0.0.1:{portal_port}",
        "DUYET_PORTAL_PORT": str(portal_port),
        "DUYET_SMTP_HOST": "127.0.0.1",
        "DUYET_SMTP_PORT": str(sink.port),
        "DUYET_CHECKOUT_DIR": str(PROJECT_ROOT),  # every worker machine's checkout
        "DUYET_POOL_CONCURRENCY": "8",
        "DUYET_LINE_CONCURRENCY": "2",
        "DUYET_RUN_LEASE_SECONDS": "30",  # a run lost with its worker is replaced soon after
        "DUYET_WARM_WAIT_SECONDS": "0",  # runs suspend at once: kills find them suspended
    } | extra
    server = prefect_env(root / "prefect") | redis_settings(REDIS_HOST, REDIS_PORT, redis_number)
    server |= {
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": make_url(prefect_url)
        .set(drivername="postgresql+asyncpg")
        .render_as_string(hide_password=False),
        "PREFECT_SERVER_DATABASE_MIGRATE_ON_START": "false",
        "PREFECT_SERVER_DOCKET_NAME": f"duyet-scale-{secrets.token_hex(4)}",
    }
    logs = root / "logs"
    logs.mkdir(parents=True)
    # Migrations once, before any replica starts (`prefect server database upgrade`).
    with (logs / "prefect-migrate.log").open("wb") as log:
        upgrade = [PREFECT, "server", "database", "upgrade", "-y"]
        subprocess.run(upgrade, env=server, check=True, stdout=log, stderr=subprocess.STDOUT)
    apis = []
    for n in (1, 2):
        port = free_port()
        command = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        env = server | {"PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
        child = Child(f"prefect-server-{n}", [*command, "--no-services"], env, PROJECT_ROOT,
                      logs / f"prefect-server-{n}.log")  # fmt: skip
        apis.append(_start(child, f"http://127.0.0.1:{port}/api/health"))
        cleanup.callback(child.stop)
    services = Child("prefect-server-services", [PREFECT, "server", "services", "start"],
                     server, PROJECT_ROOT, logs / "prefect-server-services.log")  # fmt: skip
    cleanup.callback(_start(services).stop)

    settings = get_settings(duyet_env)
    migrate.upgrade(settings.database_url)  # `duyet db upgrade`, once per release
    first_start(settings)  # signing keys, the plans recorded
    deploy_all(settings, apis[0].env["PREFECT_API_URL"])
    asyncio.run(_pause_sweeper(apis[0].env["PREFECT_API_URL"]))

    results = root / "results"  # the workers' shared result storage (NFS, S3… across machines)
    workers = []
    for n, api in enumerate(apis, start=1):  # worker n → API n
        env = prefect_env(root / f"worker-{n}", api.env["PREFECT_API_URL"]) | duyet_env
        env["PREFECT_RESULTS_LOCAL_STORAGE_PATH"] = str(results)
        command = [*WORKER, "--name", f"scale-{n}", "--limit", "6"]
        worker = Child(f"worker-{n}", command, env, PROJECT_ROOT, logs / f"worker-{n}.log")
        workers.append(_start(worker))
        cleanup.callback(worker.stop)
    others = [services]
    client_env = prefect_env(root / "clients", apis[0].env["PREFECT_API_URL"]) | duyet_env
    for name, command in children(settings, client_env):
        if name in ("portal", "sender"):
            child = Child(name, command, client_env, PROJECT_ROOT, logs / f"{name}.log")
            health = f"{settings.require_public_base_url()}/healthz" if name == "portal" else None
            others.append(_start(child, health))
            cleanup.callback(child.stop)
    return Cluster(root, settings, sink, apis, workers, others)


async def _pause_sweeper(api_url: str) -> None:
    """The sweeper's 5-minute schedule is noise here: the play reconciles on its own clock."""
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        async with get_client() as client:
            sweeper = await client.read_deployment_by_name("sweeper/sweeper")
            await client.pause_deployment(sweeper.id)


@contextlib.contextmanager
def temporary_cluster(env: dict[str, str] | None = None) -> Iterator[Cluster]:
    """A cluster under a fresh temporary folder (kept with DUYET_BENCH_KEEP=1)."""
    root = Path(tempfile.mkdtemp(prefix="duyet-scale-"))
    try:
        with running_cluster(root, env=env) as cluster:
            yield cluster
    finally:
        if not os.environ.get("DUYET_BENCH_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
