"""Imported plans, versioned by content, and the deployment of their lines."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import audit
from records.errors import LineUnknown
from records.models import PlanLine, PlanVersion

LINE_FIELDS = ("code", "title", "lead", "partners", "due")


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
    latest = latest_plan(session, plan_key=plan_key)
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
    """The newest imported version of a plan, if any."""
    return session.scalars(
        select(PlanVersion)
        .where(PlanVersion.plan_key == plan_key)
        .order_by(PlanVersion.version.desc())
        .limit(1)
    ).first()


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
    """A line of the given (default: latest) plan version; `LineUnknown` if absent."""
    if version is None:
        latest = latest_plan(session, plan_key=plan_key)
        version = latest.version if latest else 0
    line = session.get(PlanLine, (plan_key, version, code))
    if line is None:
        raise LineUnknown(plan_key=plan_key, code=code)
    return line


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
