"""The goals of issue 10, checked against a run's results."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Goal:
    path: tuple[str, ...]  # where the figure is in latest.json
    op: str
    target: float
    text: str

    def value(self, results: dict[str, Any]) -> float | None:
        found: Any = results
        for key in self.path:
            if not isinstance(found, dict) or key not in found:
                return None
            found = found[key]
        return float(found) if isinstance(found, int | float) else None

    def check(self, results: dict[str, Any]) -> dict[str, Any]:
        value = self.value(results)
        met = None if value is None or math.isnan(value) else OPS[self.op](value, self.target)
        return {
            "goal": self.text,
            "figure": ".".join(self.path),
            "value": value,
            "target": f"{self.op} {self.target:g}",
            "met": met,
        }


GOALS = (
    Goal(("resume_latency", "ratio"), "<=", 1.1, "Decision → next mail, p50 vs bare Prefect"),
    Goal(("resume_latency", "post_p95_ms"), "<=", 100, "The decision's POST, p95"),
    Goal(("plan_throughput", "postgresql", "wall_s"), "<=", 120, "44 lines to publication, PG"),
    Goal(
        ("plan_throughput", "postgresql", "locked_retries"),
        "==",
        0,
        '"database is locked" on the records, PG',
    ),
    Goal(
        ("plan_throughput", "postgresql", "prefect_locked"),
        "==",
        0,
        '"database is locked" in Prefect\'s server, PG',
    ),
    Goal(("open_cycles", "runner_rss_growth_pct"), "<=", 10, "Worker memory, 100 → 10,000"),
    Goal(("open_cycles", "portal_rss_growth_pct"), "<=", 10, "Portal memory, 100 → 10,000"),
    Goal(("open_cycles", "10000", "post_p95_ms"), "<=", 100, "POST p95 at 10,000 open"),
    Goal(("outbox", "ratio"), ">=", 0.8, "Outbox vs raw aiosmtplib"),
    Goal(("outbox", "duyet_msgs_per_s"), ">=", 200, "Outbox rate"),
    Goal(("portal_get", "ratio"), "<=", 3, "Link page p95 vs bare FastAPI"),
    Goal(("portal_get", "p95_ms"), "<=", 50, "Link page p95, 20 clients"),
    Goal(("run", "duration_s"), "<=", 900, "`make bench` in under 15 minutes"),
)


def check_all(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [goal.check(results) for goal in GOALS]
