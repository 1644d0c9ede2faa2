"""What the fork server's children run (`duyet.forkserver`): the request a launcher hands over,
the modules imported once before any fork, and Prefect's engine entry point in the launcher's
environment."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import runpy
import sys
import threading
from dataclasses import dataclass

logger = logging.getLogger("duyet.forkserver")

PRELOAD = (
    "prefect.engine",
    "prefect.flow_engine",
    "flows.review_cycle",
    "flows.sweeper",
    "flows.reports",
    "publishing.issue",  # imported by the publication step only: once here, shared by all
)
# Imported by SQLAlchemy at a process's first engine; here when installed (PostgreSQL records).
OPTIONAL = ("psycopg", "sqlalchemy.dialects.postgresql.psycopg")


@dataclass(frozen=True)
class Request:
    """What the launcher hands over: its arguments, environment and working directory."""

    argv: list[str]
    env: dict[str, str]
    cwd: str

    @classmethod
    def parse(cls, raw: bytes) -> Request:
        data = json.loads(raw)
        argv, env, cwd = data["argv"], data["env"], data["cwd"]
        if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)):
            raise ValueError("argv")
        if not (isinstance(env, dict) and all(isinstance(v, str) for v in env.values())):
            raise ValueError("env")
        if not isinstance(cwd, str):
            raise ValueError("cwd")
        return cls(argv=argv, env=env, cwd=cwd)


def run_flow_run(request: Request) -> int:
    """In the forked child: Prefect's engine entry point, as `python -m prefect.engine` runs it,
    in the launcher's environment and folder; its exit status."""
    import prefect.context
    import prefect.engine

    os.chdir(request.cwd)
    os.environ.clear()
    os.environ.update(request.env)
    sys.argv = [prefect.engine.__file__, *request.argv]
    prefect.context.refresh_global_settings_context()  # the settings of this environment
    try:
        runpy.run_path(prefect.engine.__file__, run_name="__main__")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


def preload() -> None:
    """Import what every flow run needs, before any fork (and start no thread doing it)."""
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    for module in OPTIONAL:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    _read_definitions()
    # What is loaded now lives as long as the server: out of the collector's sight, a child's
    # full collection does not walk (and copy, page by page) the 265,000 objects it inherits
    # (177 ms of CPU a collection in a child, 1 ms frozen).
    gc.freeze()
    if threading.active_count() != 1:  # a thread would not survive the fork in the children
        names = [t.name for t in threading.enumerate()]
        raise RuntimeError(f"threads started while preloading: {names}")


def _read_definitions() -> None:
    """Read the definitions (units, calendar, processes, plans) once before any fork. They are
    cached by path and modification time: a child reads a file again only if it changed."""
    from duyet.definition_files import definitions
    from duyet.settings import get_settings

    try:
        defs = definitions(get_settings())
        for path in sorted(defs.plans_dir.glob("*.yaml")):
            defs.units(path.stem)  # the plan, and its department's units
    except Exception:  # a run reading a broken definition fails and says why; not this server
        logger.warning("definitions not read ahead", exc_info=True)
