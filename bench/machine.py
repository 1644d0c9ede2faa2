"""What the numbers were measured on: the machine, the versions, the commit, the load."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import threading
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from duyet.settings import PROJECT_ROOT

PACKAGES = (
    "prefect",
    "sqlalchemy",
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "aiosmtplib",
    "aiosmtpd",
    "psycopg",
    "asyncpg",
    "httpx",
)


def _first(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1]
    except OSError:
        pass
    return ""


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return ""


def describe() -> dict[str, Any]:
    memory_kb = _first("/proc/meminfo", "MemTotal").split()[0] or "0"
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": _first("/proc/cpuinfo", "model name"),
        "ram_gib": round(int(memory_kb) / 1024 / 1024, 1),
        "os": _first("/etc/os-release", "PRETTY_NAME=").strip('"') or platform.platform(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in PACKAGES},
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


@dataclass
class LoadWatch:
    """The 1-minute load average every 10 s while the benchmarks run (others share the box)."""

    samples: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> LoadWatch:
        def watch() -> None:
            while not self._stop.wait(10):
                self.samples.append(os.getloadavg()[0])

        self.samples.append(os.getloadavg()[0])
        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
        values = self.samples or [0.0]
        return {
            "mean_1min": round(sum(values) / len(values), 2),
            "max_1min": round(max(values), 2),
            "at_end": [round(x, 2) for x in os.getloadavg()],
        }
