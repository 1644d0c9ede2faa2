"""What every measure shares: statistics, processes' memory, waiting, and a measure's outcome."""

from __future__ import annotations

import math
import os
import socket
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from duyet.settings import PROJECT_ROOT
from records.engine import read_scope

T = TypeVar("T")
RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
Figures = dict[str, float]


@dataclass
class Outcome:
    """One measure's repeats (`runs`, numbers only, same keys each) and what describes them."""

    runs: list[Figures]
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The median of each figure over the repeats, with its [min, max] and the repeats."""
        keys = list(self.runs[0]) if self.runs else []
        found: dict[str, Any] = dict(self.info)
        spread: dict[str, list[float]] = {}
        for key in keys:
            values = [run[key] for run in self.runs if key in run and not math.isnan(run[key])]
            if not values:
                continue
            found[key] = rounded(statistics.median(values))
            spread[key] = [rounded(min(values)), rounded(max(values))]
        found["range"] = spread
        found["repeats"] = len(self.runs)
        found["runs"] = [{k: rounded(v) for k, v in run.items()} for run in self.runs]
        if self.notes:
            found["notes"] = self.notes
        return found


def rounded(value: float) -> float:
    """Three significant digits past the point is plenty for a noisy 2-core machine."""
    if value == 0 or math.isnan(value) or math.isinf(value):
        return value
    digits = max(0, 3 - math.floor(math.log10(abs(value))) - 1)
    return round(value, min(digits, 6))


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100), linear between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(ours: float, theirs: float) -> float:
    return ours / theirs if theirs else math.nan


def rss_mb(pid: int) -> float:
    """Resident memory of one process (VmRSS), in MiB; NaN when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return math.nan
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and of its descendants (the worker beside its fork server,
    with any flow run running), in MiB."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        below = [int(child) for child in children.read_text().split()]
    except OSError:
        below = []
    return rss_mb(pid) + sum(tree_rss_mb(child) for child in below)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def settle(*, busy_below: float = 0.25, window: float = 2.0, timeout: float = 30.0) -> float:
    """Wait until the machine is quiet (less than `busy_below` of its CPUs busy over `window`
    seconds; a stack just started still deploys, schedules and warms up), at most `timeout`
    seconds; the busy fraction of the last window."""
    deadline = time.monotonic() + timeout
    while True:
        busy0, total0 = _cpu_times()
        time.sleep(window)
        busy1, total1 = _cpu_times()
        busy = (busy1 - busy0) / max(1, total1 - total0)
        if busy < busy_below or time.monotonic() > deadline:
            return round(busy, 3)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    probe: Callable[[], T | bool | None], *, timeout: float, what: str, every: float = 0.05
) -> T:
    """Poll `probe` until it returns something truthy; that, or TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def ms(seconds: Iterable[float]) -> list[float]:
    return [s * 1000 for s in seconds]


def reading(url: str) -> AbstractContextManager[Session]:
    """A read of the records for the bench's own watching: it takes no write lock on SQLite
    (`records.engine.read_scope`), so watching never queues behind the stack."""
    return read_scope(url)
