"""`duyet up`: the whole product on one machine — Prefect server, worker, portal, mail sender
and (without an SMTP server configured) the dev mail sink — with its data under DUYET_VAR_DIR."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from definitions.loader import load_plan
from duyet import forkserver
from duyet.definition_files import definitions
from duyet.records_bridge import record_import
from duyet.settings import PROJECT_ROOT, Settings, get_settings
from duyet.supervisor import Child, PortInUse, Supervisor, http_ok, port_free, wait_until
from flows.deploy import apply
from flows.deployments import WORK_POOL, Placement, all_deployments
from records.engine import session_scope
from records.migrate import ensure_schema
from records.plans import latest_plan

BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Stack:
    settings: Settings
    env: dict[str, str]
    supervisor: Supervisor

    @property
    def portal_url(self) -> str:
        return f"http://{self.settings.portal_host}:{self.settings.portal_port}"

    @property
    def prefect_url(self) -> str:
        return self.env["PREFECT_API_URL"].removesuffix("/").removesuffix("/api")

    @property
    def inbox_url(self) -> str | None:
        return f"{self.portal_url}/dev/inbox" if self.settings.dev_mail else None


def local_secret(var_dir: Path) -> str:
    """This installation's own random key, made once and kept private under var/ (never a
    shared default: production sets DUYET_SECRET_KEY)."""
    path = var_dir / "secret.key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def stack_settings(environ: dict[str, str]) -> tuple[Settings, dict[str, str]]:
    """The effective settings of a local stack, and the environment every child gets."""
    base = get_settings(environ)
    env = dict(environ)
    env.setdefault("DUYET_VAR_DIR", str(base.var_dir))
    env.setdefault(forkserver.ENV, forkserver.address_for(base.var_dir))
    env.setdefault("DUYET_PUBLIC_BASE_URL", f"http://{base.portal_host}:{base.portal_port}")
    if not environ.get("DUYET_SECRET_KEY"):
        env["DUYET_SECRET_KEY"] = local_secret(base.var_dir)
    if not environ.get("DUYET_SMTP_HOST"):  # no relay: mail stays on this machine
        env |= {
            "DUYET_DEV_MAIL": "1",
            "DUYET_SMTP_HOST": LOOPBACK,
            "DUYET_SMTP_PORT": str(base.dev_mail_port),
        }
    prefect_home = base.var_dir / "prefect"
    # Prefect's own database: SQLite under var/ unless one is given. On SQLite its server
    # answers 503 while the file is locked, which many concurrent runs do (docs/benchmarks.md);
    # `postgresql+asyncpg://…` there, beside records on PostgreSQL, for a busy plan.
    prefect_db = environ.get("PREFECT_SERVER_DATABASE_CONNECTION_URL") or (
        f"sqlite+aiosqlite:///{prefect_home}/prefect.db"
    )
    # A Prefect API given (replicas behind a load balancer, docs/deploy.md) is used as it is;
    # else this stack serves its own.
    api_url = environ.get("PREFECT_API_URL") or f"http://{LOOPBACK}:{base.prefect_port}/api"
    env |= {
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": prefect_db,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_WORKER_PREFETCH_SECONDS": "5",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
    }
    return get_settings(env), env


def serves_prefect(environ: Mapping[str, str]) -> bool:
    """Whether the stack starts its own Prefect server: not when PREFECT_API_URL names one."""
    return not environ.get("PREFECT_API_URL")


def check_ports(settings: Settings, environ: Mapping[str, str]) -> None:
    wanted = [(settings.portal_port, "DUYET_PORTAL_PORT")]
    if serves_prefect(environ):
        wanted.append((settings.prefect_port, "DUYET_PREFECT_PORT"))
    if settings.dev_mail:
        wanted.append((settings.dev_mail_port, "DUYET_DEV_MAIL_PORT"))
    for port, variable in wanted:
        if not port_free(LOOPBACK, port):
            raise PortInUse(f"{port}:{variable}")


def first_start(settings: Settings) -> list[str]:
    """Migrate the records, make development signing keys where there are none (a local stack:
    production installs its own), and record every plan definition not recorded yet; plan ids."""
    ensure_schema(settings.database_url)
    from publishing.issue import ensure_signing_keys  # WeasyPrint, pyHanko: not for every CLI call

    ensure_signing_keys(settings, definitions(settings))
    plan_ids = []
    for path in sorted(settings.plans_dir.glob("*.yaml")):
        plan = load_plan(path)
        with session_scope(settings.database_url) as session:
            recorded = latest_plan(session, plan_key=plan.id) is not None
        if not recorded:
            record_import(plan, settings=settings, actor="duyet:up")
        plan_ids.append(plan.id)
    return plan_ids


def deploy_all(settings: Settings, api_url: str) -> int:
    plans = [load_plan(p) for p in sorted(settings.plans_dir.glob("*.yaml"))]
    specs = all_deployments(plans)

    async def register() -> None:
        async with get_client() as client:
            await apply(client, specs, project_dir=PROJECT_ROOT, placement=Placement.of(settings))

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        asyncio.run(register())
    return len(specs)


def children(settings: Settings, env: dict[str, str]) -> list[tuple[str, list[str]]]:
    """The commands of the stack, in start order."""
    python, prefect = str(BIN / "python"), str(BIN / "prefect")
    # The sender polls twice a second: a stage's mail waits for it (docs/benchmarks.md), and an
    # idle poll is one indexed read.
    found = [
        # The worker beside the fork server that starts its flow runs warm (duyet.forkserver).
        ("worker", [python, "-m", "duyet.forkserver", "--",
                    prefect, "worker", "start", "--pool", WORK_POOL, "--type", "process",
                    "--name", f"duyet-{socket.gethostname()}", "--limit", "10"]),
        ("sender", [python, "-m", "duyet.cli", "mail", "send", "--interval", "0.5"]),
        ("portal", [python, "-m", "uvicorn", "portal.app:served", "--factory",
                    "--host", settings.portal_host, "--port", str(settings.portal_port)]),
    ]  # fmt: skip
    if settings.dev_mail:
        sink = [python, "-m", "notifications.devsink", "--port", str(settings.dev_mail_port)]
        found.append(("mail-sink", sink))
    return found


def up(environ: dict[str, str] | None = None) -> Stack:
    """Start the stack and return it running; the caller watches and stops it."""
    given = dict(os.environ if environ is None else environ)
    settings, env = stack_settings(given)
    if settings.dev_mail:
        host = urlparse(settings.require_public_base_url()).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise PortInUse("dev-mail-not-loopback")
    check_ports(settings, given)
    logs = settings.var_dir / "logs"
    supervisor = Supervisor()
    if serves_prefect(given):
        server_command = [str(BIN / "prefect"), "server", "start", "--host", LOOPBACK]
        server_command += ["--port", str(settings.prefect_port)]
        supervisor.add(
            Child("prefect-server", server_command, env, PROJECT_ROOT, logs / "prefect-server.log")
        )
    stack = Stack(settings=settings, env=env, supervisor=supervisor)
    try:
        first_start(settings)
        if not wait_until(lambda: http_ok(f"{stack.prefect_url}/api/health"), timeout=90):
            raise RuntimeError(f"prefect-server: {stack.prefect_url}, see {logs}")
        deploy_all(settings, env["PREFECT_API_URL"])
        for name, command in children(settings, env):
            supervisor.add(Child(name, command, env, PROJECT_ROOT, logs / f"{name}.log"))
        if not wait_until(lambda: http_ok(f"{stack.portal_url}/healthz"), timeout=60):
            raise RuntimeError(f"portal: see {logs / 'portal.log'}")
    except BaseException:
        supervisor.stop()
        raise
    return stack
