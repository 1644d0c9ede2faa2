"""docs/benchmarks.md from a run's results: the machine, the goals, a table per measure, how
each was measured (the modules' docstrings) and what the profiles found (bench/findings.md)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import hold, imports, outbox, portal_get, resume, throughput
from duyet.settings import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs" / "benchmarks.md"
FINDINGS = Path(__file__).with_name("findings.md")

LABELS = {
    "duyet_p50_s": "duyet, p50 (s)",
    "duyet_p95_s": "duyet, p95 (s)",
    "prefect_p50_s": "bare Prefect, p50 (s)",
    "prefect_p95_s": "bare Prefect, p95 (s)",
    "ratio": "ratio duyet / baseline",
    "post_p95_ms": "POST, p95 (ms)",
    "wall_s": "wall (s)",
    "lines": "lines",
    "decisions": "decisions posted",
    "mails": "mails accepted by SMTP",
    "locked_retries": '"database is locked", records side',
    "prefect_locked": '"database is locked", Prefect server',
    "task_reruns": "task runs retried",
    "portal_503": "portal 503s",
    "opened_s": "opening every line (s)",
    "reconciled": "runs the reconciler restarted or resumed",
    "start_refused": "runs Prefect refused to create (left to the reconciler)",
    "duyet_msgs_per_s": "duyet sender (msg/s)",
    "raw_msgs_per_s": "raw aiosmtplib (msg/s)",
    "import_s": "import + lint, in-process (s)",
    "deploy_s": "deploy every line (s)",
    "lint_cli_s": "`duyet plan lint`, new process (s)",
    "p95_ms": "duyet link page, p95 (ms)",
    "bare_p95_ms": "bare FastAPI, p95 (ms)",
    "p50_ms": "duyet link page, p50 (ms)",
    "bare_p50_ms": "bare FastAPI, p50 (ms)",
}
HOLD_COLUMNS = (
    ("runner_rss_mb", "worker RSS (MiB)"),
    ("portal_rss_mb", "portal RSS (MiB)"),
    ("post_p95_ms", "POST p95 (ms)"),
    ("post_p50_ms", "POST p50 (ms)"),
    ("status_ms", "`duyet status` (ms)"),
    ("prefect_server_rss_mb", "Prefect server RSS (MiB)"),
)


def _number(value: float) -> str:
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def cell(summary: dict[str, Any], key: str) -> str:
    """`median (min–max)`, or the value alone when every repeat agreed or there was one."""
    if "error" in summary:
        return "error"
    value = summary.get(key)
    if not isinstance(value, int | float):
        return "—"
    low, high = summary.get("range", {}).get(key, [value, value])
    text = _number(value)
    return text if low == high else f"{text} ({_number(low)}–{_number(high)})"


def _method(module: ModuleType) -> str:
    return inspect.cleandoc(module.__doc__ or "")


def _table(summary: dict[str, Any], keys: list[str]) -> list[str]:
    rows = ["| figure | median (min–max) |", "|---|---|"]
    rows += [f"| {LABELS.get(k, k)} | {cell(summary, k)} |" for k in keys]
    return rows


def _keys(summary: dict[str, Any]) -> list[str]:
    return list(summary.get("range", {}))


def _single(title: str, key: str, module: ModuleType, results: dict[str, Any]) -> list[str]:
    summary = results.get(key)
    out = [f"## {title} (`{key}`)", "", _method(module), ""]
    if not isinstance(summary, dict):
        return [*out, "Not measured in this run.", ""]
    if "error" in summary:
        return [*out, f"Failed: `{summary['error']}`", ""]
    out += _table(summary, _keys(summary))
    skip = (*_keys(summary), "range", "runs", "phases_s")
    extra = {k: v for k, v in summary.items() if k not in skip}
    if extra:
        out += ["", "Also: " + "; ".join(f"`{k}` = `{_json(v)}`" for k, v in extra.items())]
    return [*out, ""]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)


def _phases(results: dict[str, Any]) -> list[str]:
    """Where the time of a resume goes: seconds from the decision to each step (medians)."""
    found = results.get("resume_latency", {}).get("phases_s")
    if not isinstance(found, dict):
        return []
    names = {
        "resumed": "Prefect accepted the resume",
        "picked_up": "the worker took the run (Pending)",
        "running": "a new process runs the flow (Running)",
        "mail_queued": "the next stage's mail committed to the outbox",
        "mail_accepted": "the mail accepted by SMTP",
    }
    out = [
        "Seconds from the decision (or `resume_flow_run`) to each step, medians over the samples:",
        "",
        "| step | duyet | bare Prefect |",
        "|---|---|---|",
    ]
    for key, label in names.items():
        ours, theirs = found["duyet"].get(key), found["prefect"].get(key)
        out.append(
            f"| {label} | {'—' if ours is None else ours} | {'—' if theirs is None else theirs} |"
        )
    return [*out, ""]


def _throughput(results: dict[str, Any]) -> list[str]:
    found = results.get("plan_throughput", {})
    out = ["## The whole seed plan (`plan_throughput`)", "", _method(throughput), ""]
    # scale: every plan on the distributed setup (`python -m bench.throughput --setup scale`)
    dbs = [db for db in ("sqlite", "postgresql", "scale") if isinstance(found.get(db), dict)]
    if not dbs:
        return [*out, "Not measured in this run.", ""]
    keys: list[str] = []
    for db in dbs:
        keys += [k for k in _keys(found[db]) if k not in keys]
    out += ["| figure | " + " | ".join(dbs) + " |", "|---|" + "---|" * len(dbs)]
    out += [
        f"| {LABELS.get(k, k)} | " + " | ".join(cell(found[d], k) for d in dbs) + " |" for k in keys
    ]
    for db in dbs:
        extra = {k: v for k, v in found[db].items() if k not in (*keys, "range", "runs")}
        out += ["", f"{db}: " + "; ".join(f"`{k}` = `{_json(v)}`" for k, v in extra.items())]
    return [*out, ""]


def _hold(results: dict[str, Any]) -> list[str]:
    found = results.get("open_cycles")
    out = ["## Open cycles held (`open_cycles`)", "", _method(hold), ""]
    if not isinstance(found, dict) or "sizes" not in found:
        return [*out, "Not measured in this run." if not found else f"Failed: `{found}`", ""]
    out += ["| open cycles | " + " | ".join(label for _, label in HOLD_COLUMNS) + " |"]
    out += ["|---|" + "---|" * len(HOLD_COLUMNS)]
    for size in found["sizes"]:
        row = found[size]
        out += [
            f"| {int(row['n']):,} | " + " | ".join(cell(row, k) for k, _ in HOLD_COLUMNS) + " |"
        ]
    out += [
        "",
        f"Memory from the smallest to the largest: worker {found['runner_rss_growth_pct']:+.1f} %, "
        f"portal {found['portal_rss_growth_pct']:+.1f} %. Making the cycles took "
        f"{found[found['sizes'][-1]].get('create_s', '?')} s in all "
        f"({found[found['sizes'][-1]].get('db', 'sqlite')}).",
    ]
    return [*out, ""]


def _goals(results: dict[str, Any]) -> list[str]:
    out = ["## Goals", "", "| goal | figure | value | target | met |", "|---|---|---|---|---|"]
    for goal in results.get("goals", []):
        value = "—" if goal["value"] is None else _number(goal["value"])
        met = {True: "yes", False: "**no**", None: "not measured"}[goal["met"]]
        out.append(f"| {goal['goal']} | `{goal['figure']}` | {value} | {goal['target']} | {met} |")
    return [*out, ""]


def _machine(results: dict[str, Any]) -> list[str]:
    m, run = results.get("machine", {}), results.get("run", {})
    versions = ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items() if v)
    load = run.get("load", {})
    dirty = " + uncommitted changes" if m.get("dirty") else ""
    steps = ", ".join(f"{k} {v:.0f} s" for k, v in run.get("durations_s", {}).items())
    return [
        "## Machine and run",
        "",
        "| | |",
        "|---|---|",
        f"| date | {m.get('date', '')} |",
        f"| CPU | {m.get('cpus')} × {m.get('cpu_model', '')} |",
        f"| memory | {m.get('ram_gib')} GiB |",
        f"| OS | {m.get('os', '')} (kernel {m.get('kernel', '')}) |",
        f"| Python | {m.get('python', '')} |",
        f"| versions | {versions} |",
        f"| commit | `{m.get('commit', '')[:12]}`{dirty} |",
        f"| duration | {run.get('duration_s', 0) / 60:.1f} min ({steps}) |",
        f"| load (1-min average, every 10 s) | mean {load.get('mean_1min')}, max "
        f"{load.get('max_1min')}, on 2 cores: other engineers' test suites shared the machine |",
        *(
            f"| re-run on {again.get('date', '')} | {', '.join(again['measures'])}: "
            f"{again['duration_s'] / 60:.1f} min, load mean {again['load'].get('mean_1min')}, "
            f"max {again['load'].get('max_1min')} |"
            for again in results.get("reruns", [])
        ),
        "",
    ]


def render(results: dict[str, Any]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "What duyet costs on top of Prefect, and what it holds. Written by `make bench`",
        "(`python -m bench.run`; `--only NAME` for one measure, `--quick` to try the scripts) from",
        "`bench/results/latest.json`: do not edit by hand; the text comes from `bench/`.",
        "Every figure is the median of its repeats, with the lowest and highest in brackets;",
        "each baseline ran in the same run, on the same machine, alternating with duyet where",
        "it could.",
        "",
        *_machine(results),
        *_goals(results),
        *_single(
            "Decision to the next stage's mail (`resume_latency`)",
            "resume_latency",
            resume,
            results,
        ),
        *_throughput(results),
        *_hold(results),
        *_single("Outbox", "outbox", outbox, results),
        *_single("Import, lint and deploy", "imports", imports, results),
        *_single("Link page under 20 clients", "portal_get", portal_get, results),
    ]
    if FINDINGS.exists():
        lines += [FINDINGS.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(lines)


def write_docs(results: dict[str, Any]) -> Path:
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(render(results), encoding="utf-8")
    return DOCS
