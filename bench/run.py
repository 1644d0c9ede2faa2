"""Run the benchmarks: `python -m bench.run [--only NAME ...] [--quick]` (`make bench`).

Writes bench/results/latest.json and rewrites docs/benchmarks.md; `--quick` (small sizes, one
repeat, to try the scripts) writes bench/results/quick.json and leaves the docs alone. `--only`
runs some measures and replaces just those in the existing results.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from bench import hold, imports, outbox, portal_get, resume, throughput
from bench.common import RESULTS_DIR, Outcome, rounded
from bench.goals import check_all
from bench.machine import LoadWatch, describe
from bench.report import write_docs
from bench.stack import BenchStack, running

# Module name -> key in latest.json, in the order they run (the SQLite stack's, then the rest).
MEASURES = {
    "imports": "imports",
    "portal_get": "portal_get",
    "resume": "resume_latency",
    "throughput": "plan_throughput",
    "hold": "open_cycles",
    "outbox": "outbox",
}
ON_SQLITE_STACK = ("imports", "portal_get", "resume", "throughput")
# Held cycles on PostgreSQL: 10,000 suspended runs created through Prefect's server on SQLite
# took 16 minutes (its database locked, runs refused and sent again); the measure is what the
# worker and portal hold, not Prefect's database.
ON_POSTGRESQL_STACK = ("throughput", "hold")
DBS = ("sqlite", "postgresql")


def held(found: dict[str, Outcome]) -> dict[str, Any]:
    """Each size's figures, and how much the memory grew from the smallest to the largest."""
    summary: dict[str, Any] = {size: outcome.summary() for size, outcome in found.items()}
    sizes = list(found)
    for who in ("runner", "portal"):
        first = summary[sizes[0]][f"{who}_rss_mb"]
        last = summary[sizes[-1]][f"{who}_rss_mb"]
        summary[f"{who}_rss_growth_pct"] = rounded((last - first) / first * 100)
    summary["sizes"] = sizes
    return summary


def _timed(name: str, step: Callable[[], Any], durations: dict[str, float]) -> Any:
    print(f"[bench] {name} …", flush=True)
    began = time.monotonic()
    try:
        return step()
    except Exception as error:
        traceback.print_exc()
        return {"error": f"{type(error).__name__}: {error}"}
    finally:
        durations[name] = round(time.monotonic() - began, 1)
        print(f"[bench] {name}: {durations[name]} s", flush=True)


def _on_stack(stack: BenchStack, name: str, quick: bool) -> Any:
    if name == "hold":
        return held(hold.measure(stack, quick=quick))
    module = {"imports": imports, "portal_get": portal_get, "resume": resume}.get(name)
    if module is not None:
        return module.measure(stack, quick=quick).summary()
    return throughput.measure(stack, quick=quick).summary()


def _stack_measures(
    db: str, names: list[str], quick: bool, found: dict[str, Any], durations: dict[str, float]
) -> None:
    """Run `names` one after the other on one stack whose databases are on `db`."""
    with running(db) as stack:
        for name in names:

            def step(name: str = name) -> Any:
                return _on_stack(stack, name, quick)

            if name == "throughput":
                label = "throughput" if db == "sqlite" else f"throughput ({db})"
                found.setdefault("plan_throughput", {})[db] = _timed(label, step, durations)
            else:
                found[MEASURES[name]] = _timed(name, step, durations)


def run(names: list[str], quick: bool, dbs: tuple[str, ...] = DBS) -> dict[str, Any]:
    found: dict[str, Any] = {}
    durations: dict[str, float] = {}
    for db, measures in (("sqlite", ON_SQLITE_STACK), ("postgresql", ON_POSTGRESQL_STACK)):
        chosen = [n for n in measures if n in names and (n != "throughput" or db in dbs)]
        if chosen:
            _stack_measures(db, chosen, quick, found, durations)
    if "outbox" in names:
        found["outbox"] = _timed("outbox", lambda: outbox.measure(quick=quick).summary(), durations)
    found["durations_s"] = durations
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--only", action="append", choices=list(MEASURES), default=[])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--db", choices=DBS, help="the plan throughput on this one only")
    args = parser.parse_args(argv)
    # A SIGTERM unwinds like Ctrl-C, so every stack started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    names = args.only or list(MEASURES)
    path = RESULTS_DIR / ("quick.json" if args.quick else "latest.json")
    previous = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    results: dict[str, Any] = previous if args.only else {}
    # The distributed setup's figure is its own run (`python -m bench.throughput --setup scale`,
    # 10+ minutes): kept, and said to be, until that run is made again.
    scale = previous.get("plan_throughput", {}).get("scale")
    if scale is not None and not args.quick:
        scale.setdefault("note", "measured by its own run, not by this one")
        results.setdefault("plan_throughput", {})["scale"] = scale
    load = LoadWatch().start()
    began = time.monotonic()
    found = run(names, args.quick, (args.db,) if args.db else DBS)
    duration = time.monotonic() - began
    durations = found.pop("durations_s")
    if "plan_throughput" in found:  # one database may be re-run alone (`--db`)
        results.setdefault("plan_throughput", {}).update(found.pop("plan_throughput"))
    results.update(found)
    results["machine"] = describe()
    info = {
        "measures": names,
        "quick": args.quick,
        "duration_s": round(duration, 1),
        "durations_s": durations,
        "load": load.stop(),
        "date": results["machine"]["date"],
    }
    if args.only and "run" in results:  # the whole run's time stays; this one is told apart
        results.setdefault("reruns", []).append(info)
    else:
        results["run"] = info
    results["goals"] = check_all(results)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"[bench] {path} written ({duration:.0f} s)")
    if not args.quick:
        print(f"[bench] {write_docs(results)} written")
    failed = [k for k, v in found.items() if "error" in json.dumps(v)[:200_000]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
