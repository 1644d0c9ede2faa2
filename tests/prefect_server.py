"""A real Prefect server and a real process worker, each in its own process, for tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from duyet.settings import PROJECT_ROOT

PREFECT = str(Path(sys.executable).with_name("prefect"))
# The worker as `duyet up` runs it: beside the fork server that starts its flow runs warm.
WORKER = [sys.executable, "-m", "duyet.forkserver", "--"]
WORKER += [PREFECT, "worker", "start", "--pool", "duyet", "--type", "process"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prefect_env(home: Path, api_url: str | None = None) -> dict[str, str]:
    """Environment for a Prefect process isolated under `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUYET_"))}
    env |= {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home}/prefect.db",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_WORKER_PREFETCH_SECONDS": "5",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
    }
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


@dataclass
class Server:
    url: str
    home: Path
    process: subprocess.Popen[bytes]

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _serve(home: Path, port: int, log: IO[bytes], timeout: float) -> subprocess.Popen[bytes]:
    """Start `prefect server start` on `port` with its database under `home`; wait until healthy."""
    process = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=prefect_env(home),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while not _healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(
                f"Prefect server did not start:\n{(home / 'server.log').read_text()}"
            )
        time.sleep(0.3)
    return process


@contextlib.contextmanager
def prefect_server(home: Path, *, timeout: float = 180) -> Iterator[Server]:
    """`prefect server start` on a free loopback port, its database under `home`."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (home / "server.log").open("wb")
    server = Server(
        url=f"http://127.0.0.1:{port}", home=home, process=_serve(home, port, log, timeout)
    )
    try:
        yield server
    finally:
        stop(server.process)  # the one running now, if `restart_server` replaced it
        log.close()


def restart_server(server: Server, *, timeout: float = 180) -> None:
    """Start the server again on its port and database (stopping it first if it still runs):
    the runs, deployments and work pool it had are all there again."""
    stop(server.process)
    port = int(server.url.rsplit(":", 1)[1])
    with (server.home / "server.log").open("ab") as log:  # the child keeps its own fd
        server.process = _serve(server.home, port, log, timeout)


def start_worker(
    server: Server, env: Mapping[str, str], *, name: str = "test", limit: int = 8
) -> subprocess.Popen[bytes]:
    """A `prefect worker start` on the `duyet` pool, running flows from the project folder."""
    with (server.home / f"worker-{name}.log").open("ab") as log:  # the child keeps its own fd
        return subprocess.Popen(
            [*WORKER, "--name", name, "--limit", str(limit)],
            env={**prefect_env(server.home, server.api_url), **env},
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, read from /proc (flow runs may be in sessions of their own)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not)."""
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def run_processes(worker_pid: int) -> list[int]:
    """The flow runs' processes under a worker started by `start_worker`: every process below
    its fork server but the worker itself (`prefect worker start`)."""
    found = []
    for pid in descendants(worker_pid):
        with contextlib.suppress(OSError):
            if b"\0worker\0start\0" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Stop a process group started above; kill it if it does not stop in time."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
