"""Imported plans, versioned by content, and the deployment of their lines."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import URL, Select, bindparam, select
from sqlalchemy.orm import Session, lazyload, make_transient_to_detached

from records import audit
from records.errors import LineUnknown
from records.models import PlanLine, PlanVersion
from records.recent import Recent

LINE_FIELDS = ("code", "title", "lead", "partners", "due")
CACHED_VERSIONS = 32  # plan versions whose lines a process keeps

_Lines = dict[str, dict[str, Any]]  # a version's lines: code -> column values
_Key = tuple[URL, str, int, str]  # database URL, plan key, version, content sha256


def record_plan_import(
    session: Session,
    *,
    plan_key: str,
    title: str,
    year: int,
    source_sha256: str,
    definition: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    actor: str,
    now: datetime | None = None,
) -> PlanVersion:
    """Store the plan as version N+1, unless its content equals the latest version's."""
    audit.lock(session)
    content = audit.jsonable(
        {"title": title, "year": year, "definition": definition, "lines": list(lines)}
    )
    content_sha256 = hashlib.sha256(audit.canonical_json(content).encode()).hexdigest()
    latest = session.scalars(_newest(plan_key)).first()  # with its lines, as a new one has
    if latest is not None and latest.content_sha256 == content_sha256:
        return latest
    moment = now or audit.utcnow()
    plan = PlanVersion(
        plan_key=plan_key,
        version=latest.version + 1 if latest else 1,
        title=title,
        year=year,
        source_sha256=source_sha256,
        content_sha256=content_sha256,
        definition=audit.canonical_json(content["definition"]),
        imported_by=actor,
        imported_at=moment,
    )
    plan.lines = [_line(position, line) for position, line in enumerate(content["lines"])]
    session.add(plan)
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="plan.imported",
        subject=f"plan:{plan_key}",
        payload={
            "plan_key": plan_key,
            "version": plan.version,
            "title": title,
            "year": year,
            "source_sha256": source_sha256,
            "content_sha256": content_sha256,
            "line_codes": [line.code for line in plan.lines],
        },
        at=moment,
    )
    return plan


def record_lines_deployed(
    session: Session,
    *,
    plan_key: str,
    version: int,
    deployments: Mapping[str, str],
    actor: str,
) -> None:
    """Log that lines (code -> Prefect deployment id) of a plan version were deployed."""
    audit.lock(session)
    for code in deployments:
        plan_line(session, plan_key=plan_key, code=code, version=version)
    audit.append(
        session,
        actor=actor,
        action="lines.deployed",
        subject=f"plan:{plan_key}",
        payload={
            "plan_key": plan_key,
            "version": version,
            "line_codes": sorted(deployments),
            "deployments": dict(deployments),
        },
    )


def latest_plan(session: Session, *, plan_key: str) -> PlanVersion | None:
    """The newest imported version of a plan, if any (its lines are read when first used)."""
    return session.scalars(_newest(plan_key).options(lazyload(PlanVersion.lines))).first()


def plan_versions(session: Session, *, plan_key: str) -> list[PlanVersion]:
    """Every imported version of a plan, oldest first."""
    return list(
        session.scalars(
            select(PlanVersion)
            .where(PlanVersion.plan_key == plan_key)
            .order_by(PlanVersion.version)
        )
    )


def plan_line(
    session: Session, *, plan_key: str, code: str, version: int | None = None
) -> PlanLine:
    """A line of the given (default: latest) plan version; `LineUnknown` if absent.

    The caller's own copy, in no session. A version never changes once imported, so the process
    reads its lines once; each call asks only which version (number and content hash) it is.
    """
    row = line_values(session, plan_key=plan_key, code=code, version=version)
    line = PlanLine(**copy.deepcopy(dict(row)))
    make_transient_to_detached(line)  # what was not read (`plan`) fails loudly, not as None
    return line


# Which version a line is read from, asked on every page: built once (records.cycle_reads._CYCLE).
_NEWEST = (
    select(PlanVersion.version, PlanVersion.content_sha256)
    .where(PlanVersion.plan_key == bindparam("plan_key"))
    .order_by(PlanVersion.version.desc())
    .limit(1)
)
_VERSION = select(PlanVersion.version, PlanVersion.content_sha256).where(
    PlanVersion.plan_key == bindparam("plan_key"), PlanVersion.version == bindparam("version")
)


def line_values(
    session: Session, *, plan_key: str, code: str, version: int | None = None
) -> Mapping[str, Any]:
    """As `plan_line`, the line's column values as the process keeps them, read-only and not
    copied (for pages that only show them; nested values must not be changed either)."""
    if version is None:
        found = session.execute(_NEWEST, {"plan_key": plan_key}).first()
    else:
        found = session.execute(_VERSION, {"plan_key": plan_key, "version": version}).first()
    if found is None:
        raise LineUnknown(plan_key=plan_key, code=code)
    # The hash tells the version cached from another one with its number (an import rolled
    # back, a database made again at the same URL).
    key = (session.get_bind().engine.url, plan_key, found.version, found.content_sha256)
    lines = _cached.get_or_make(
        key, lambda: _read_lines(session, plan_key=plan_key, version=found.version)
    )
    row = lines.get(code)
    if row is None:
        raise LineUnknown(plan_key=plan_key, code=code)
    return MappingProxyType(row)


_cached: Recent[_Key, _Lines] = Recent(CACHED_VERSIONS)


def _read_lines(session: Session, *, plan_key: str, version: int) -> _Lines:
    table = PlanLine.__table__
    rows = session.execute(
        select(table).where(table.c.plan_key == plan_key, table.c.plan_version == version)
    )
    return {row.code: dict(row._mapping) for row in rows}


def _newest(plan_key: str) -> Select[PlanVersion]:
    return (
        select(PlanVersion)
        .where(PlanVersion.plan_key == plan_key)
        .order_by(PlanVersion.version.desc())
        .limit(1)
    )


def _line(position: int, line: Mapping[str, Any]) -> PlanLine:
    missing = [field for field in ("code", "title") if not line.get(field)]
    if missing:
        raise ValueError(f"plan line #{position + 1} lacks {', '.join(missing)}")
    due = line.get("due")
    return PlanLine(
        code=line["code"],
        position=position,
        title=line["title"],
        lead=list(line.get("lead") or []),
        partners=list(line.get("partners") or []),
        due=date.fromisoformat(due) if due else None,
        extra={key: value for key, value in line.items() if key not in LINE_FIELDS},
    )
