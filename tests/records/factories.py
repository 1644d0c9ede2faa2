"""Builders shared by the records tests: plans, cycles in review, threads, tampering."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from definitions.stage_rules import Stage, Verdict
from records.cycles import advance_stage, open_cycle
from records.decisions import decide_by_token
from records.documents import submit_version
from records.models import Decision, PlanVersion, ReviewCycle
from records.plans import latest_plan, record_plan_import
from records.tokens import issue_token, lookup_token

T = TypeVar("T")

PLAN_KEY = "kh-cchc-2024"
OFFICE = "van-phong"
REVIEWERS = ("phong-tcpc", "thanh-tra")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_BYTES = 1024


def plan_lines(*codes: str, due: date | None = date(2024, 6, 30)) -> list[dict[str, Any]]:
    codes = codes or ("1.1", "1.4.b", "2.2.đ")
    return [
        {
            "code": code,
            "title": f"Nhiệm vụ {code}: rà soát thủ tục hành chính",
            "lead": [OFFICE],
            "partners": list(REVIEWERS),
            "due": due,
            "products": ["Báo cáo"],
        }
        for code in codes
    ]


def import_plan(
    session: Session,
    *,
    plan_key: str = PLAN_KEY,
    lines: Sequence[dict[str, Any]] | None = None,
    title: str = "Kế hoạch cải cách hành chính năm 2024",
) -> PlanVersion:
    return record_plan_import(
        session,
        plan_key=plan_key,
        title=title,
        year=2024,
        source_sha256="ab" * 32,
        definition={"plan_key": plan_key, "year": 2024, "issuer": "Sở VHTTDL"},
        lines=list(lines if lines is not None else plan_lines()),
        actor=OFFICE,
    )


def new_cycle(session: Session, *, line_code: str = "1.4.b") -> ReviewCycle:
    """A cycle at draft, round 1 (importing the plan first if needed)."""
    if latest_plan(session, plan_key=PLAN_KEY) is None:
        import_plan(session)
    return open_cycle(session, plan_key=PLAN_KEY, line_code=line_code, opened_by=OFFICE)


def submit(session: Session, cycle_id: str, content: bytes = b"du thao v1") -> str:
    version = submit_version(
        session,
        cycle_id=cycle_id,
        content=content,
        filename="du-thao.docx",
        media_type=DOCX,
        submitted_by=OFFICE,
        max_bytes=MAX_BYTES,
    )
    return version.sha256


@dataclass(frozen=True)
class InReview:
    cycle_id: str
    sha256: str
    links: dict[str, str]  # reviewer unit -> raw token


def cycle_in_review(
    sessions: sessionmaker[Session],
    *,
    line_code: str = "1.4.b",
    reviewers: Sequence[str] = REVIEWERS,
    expires_at: datetime | None = None,
) -> InReview:
    """Plan imported, cycle opened, document submitted, review started, one link per reviewer.

    Writes audit events 1-6 on an empty database.
    """
    with sessions.begin() as session:
        cycle = new_cycle(session, line_code=line_code)
        sha256 = submit(session, cycle.id)
        advance_stage(session, cycle_id=cycle.id, target=Stage.REVIEW, actor=OFFICE)
        links = {
            unit: issue_token(
                session,
                cycle_id=cycle.id,
                stage=Stage.REVIEW,
                round=1,
                recipient_unit=unit,
                recipient_email=f"{unit}@svhttdl.example",
                document_sha256=sha256,
                expires_at=expires_at or datetime.now(UTC) + timedelta(days=7),
                actor=OFFICE,
            )
            for unit in reviewers
        }
    return InReview(cycle.id, sha256, links)


def eight_events(sessions: sessionmaker[Session]) -> InReview:
    """`cycle_in_review` plus a link opened (7) and a decision through it (8)."""
    review = cycle_in_review(sessions)
    link = review.links[REVIEWERS[0]]
    with sessions.begin() as session:
        lookup_token(session, raw_token=link, client_ip="10.0.0.7", user_agent="Firefox")
    decide(sessions, link)
    return review


def decide(
    sessions: sessionmaker[Session], raw_token: str, *, comment: str = "Thống nhất."
) -> Decision:
    with sessions.begin() as session:
        return decide_by_token(
            session,
            raw_token=raw_token,
            verdict=Verdict.APPROVE,
            comment=comment,
            reviewer_person="Nguyễn Thị Hoa",
            client_ip="10.0.0.7",
            user_agent="Firefox",
        )


def in_threads(count: int, work: Callable[[int], T]) -> list[T | Exception]:
    """Run `work(i)` in `count` threads released at the same instant; results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[T | Exception] = [RuntimeError("thread did not finish")] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def tamper(engine: Engine, *statements: str) -> None:
    """Run SQL as someone with direct access to the database, past the append-only triggers."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
        for statement in statements:
            connection.exec_driver_sql(statement)
