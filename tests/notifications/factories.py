"""Builders shared by the notifications tests: contexts of every kind, settings, parsed mail."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from definitions.stage_rules import Stage, Verdict
from definitions.units import UnitDirectory
from duyet.settings import Settings
from notifications import dispatch
from notifications.context import (
    Action,
    ApprovalRequest,
    Base,
    Cancelled,
    ChangesRequested,
    Comment,
    DeadLetter,
    Digest,
    DigestItem,
    Document,
    DraftRequest,
    Escalation,
    FailedMail,
    Line,
    ProgressReport,
    Published,
    Rejected,
    Reminder,
    ReviewRequest,
    Sender,
)
from notifications.mail import MailKind
from notifications.sender import DeliveryReport, deliver_due
from records.cycles import advance_stage, open_cycle
from records.decisions import record_decision
from records.documents import submit_version
from records.models import DocumentVersion, Mail, ReviewCycle
from records.plans import latest_plan, record_plan_import

SECRET = "k" * 20 + "-test-secret-0123456789"
BASE_URL = "https://duyet.svhttdl.example"
ISSUED = datetime(2024, 3, 4, 2, 30, tzinfo=UTC)
LINK_PATTERN = re.compile(r"https?://[^\s\"'<>]+/r/[A-Za-z0-9_.-]+")

SENDER = Sender(
    organisation="Sở Văn hóa, Thể thao và Du lịch tỉnh Bình Dương",
    office="Văn phòng Sở",
    portal_url=BASE_URL,
)
LINE = Line(
    code="1.4.b",
    title="Kiểm tra việc thi hành pháp luật về xử lý vi phạm hành chính <năm 2024> & báo cáo",
    products=["Kế hoạch", "Báo cáo"],
)
DOCUMENT = Document(
    filename="Dự thảo kế hoạch kiểm tra.docx",
    sha256="ab" * 32,
    size=24_576,
    media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
REPORT = Document(
    filename="01-BC-SVHTTDL.pdf", sha256="cd" * 32, size=182_340, media_type="application/pdf"
)
ANNEX = Document(
    filename="01-BC-SVHTTDL-phu-luc.xlsx",
    sha256="ef" * 32,
    size=9_216,
    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
COMMENTS = [
    Comment(
        unit="Thanh tra Sở",
        stage="review",
        verdict="changes",
        person="Lê Văn Bình",
        text="Đề nghị bổ sung căn cứ pháp lý.\nSửa lỗi chính tả ở mục 2.",
        decided_on=date(2024, 3, 1),
    ),
    Comment(
        unit="Phòng Tổ chức - Pháp chế",
        stage="review",
        verdict="approve",
        text="",
        decided_on=date(2024, 3, 2),
    ),
]


def action(url: str = f"{BASE_URL}/r/TOKEN", stage: str = "review", round: int = 2) -> Action:
    return Action(
        url=url,
        stage=stage,
        round=round,
        deadline=date(2024, 3, 15),
        calendar_uid=f"c1-{stage}-r{round}-thanh-tra@svhttdl.example",
    )


def contexts() -> dict[MailKind, Base]:
    """One sample context per kind, with a link where the kind has one."""
    common: dict[str, Any] = {"sender": SENDER, "recipient": "Thanh tra Sở", "issued_at": ISSUED}
    line: dict[str, Any] = {**common, "line": LINE, "round": 2}
    return {
        MailKind.DRAFT_REQUEST: DraftRequest(
            **line, action=action(stage="draft"), previous=DOCUMENT, comments=COMMENTS
        ),
        MailKind.REVIEW_REQUEST: ReviewRequest(**line, action=action(), document=DOCUMENT),
        MailKind.APPROVAL_REQUEST: ApprovalRequest(
            **line, action=action(stage="approval"), document=DOCUMENT, comments=COMMENTS
        ),
        MailKind.CHANGES_REQUESTED: ChangesRequested(
            **line, action=action(stage="draft"), previous=DOCUMENT, comments=COMMENTS
        ),
        MailKind.REJECTED: Rejected(
            **line, document=DOCUMENT, comments=COMMENTS, reason="Quá số vòng tối đa"
        ),
        MailKind.PUBLISHED: Published(**line, document=DOCUMENT, published_on=date(2024, 3, 20)),
        MailKind.REMINDER: Reminder(**line, action=action(), days_left=2, document=DOCUMENT),
        MailKind.ESCALATION: Escalation(
            **line,
            stage="review",
            deadline=date(2024, 3, 15),
            days_overdue=1,
            late_units=["Thanh tra Sở"],
            to="head",
            action=action(),
        ),
        MailKind.DIGEST: Digest(
            **common,
            on=date(2024, 3, 4),
            items=[
                DigestItem(line=LINE, action=action(f"{BASE_URL}/r/A1"), document=DOCUMENT),
                DigestItem(
                    line=Line(code="2.2.đ", title="Rà soát quy trình một cửa"),
                    action=action(f"{BASE_URL}/r/B2", stage="draft", round=1),
                ),
            ],
        ),
        MailKind.CANCELLED: Cancelled(
            **line, stage="review", reason="Nhiệm vụ được điều chỉnh theo kế hoạch mới"
        ),
        MailKind.PROGRESS_REPORT: ProgressReport(
            **common,
            plan_title="Kế hoạch kiểm tra năm 2024 <của Sở> & các đơn vị",
            period="quý I năm 2024",
            number="Số: 01/BC-SVHTTDL",
            published_on=date(2024, 3, 5),
            document=REPORT,
            annex=ANNEX,
        ),
        MailKind.DEAD_LETTER: DeadLetter(
            **common,
            code="1.4.b",
            failed=FailedMail(
                mail_id=7,
                kind=MailKind.REVIEW_REQUEST,
                to="thanhtra@svhttdl.example",
                subject="1.4.b — Đề nghị góp ý dự thảo (vòng 2), hạn 15/03/2024",
                attempts=8,
                last_error="550 5.1.1 mailbox unavailable",
                message_id="<abc@svhttdl.example>",
                created_at=ISSUED,
            ),
        ),
    }


def settings_for(db_url: str, tmp_path: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "var_dir": tmp_path / "var",
        "public_base_url": BASE_URL,
        "secret_key": SECRET,
        "smtp_from": "duyet@svhttdl.example",
        "smtp_timeout": 5.0,
        "mail_backoff_seconds": 60.0,
        "mail_backoff_max_seconds": 600.0,
    }
    return Settings.model_validate(values | changes)


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def links_in(text: str) -> list[str]:
    return LINK_PATTERN.findall(text)


def token_of(url: str) -> str:
    return url.rsplit("/r/", 1)[1]


# --- the records side: a plan line whose units are in the shipped directory ---------------

both_databases = pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("pg", marks=pytest.mark.pg)], indirect=True
)

PLAN_KEY = "kh-thong-bao"
CODE = "1.4.b"
LEAD = "phong-to-chuc-phap-che"
PARTNER_REFS = ["thanh-tra", "phong-quan-ly", "Tổ chức, công dân", LEAD]  # a group, raw text
PARTNERS = ["thanh-tra", "phong-quan-ly-van-hoa", "phong-quan-ly-the-thao", "phong-quan-ly-du-lich"]
OFFICE = "van-phong"
ACTOR = "flow:test"
PDF = b"%PDF-1.4\n% Du thao ke hoach kiem tra\n" + bytes(range(256)) + b"\n%%EOF\n"
PDF_NAME = "Dự thảo kế hoạch kiểm tra.pdf"


def later(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def import_plan(session: Session) -> None:
    record_plan_import(
        session,
        plan_key=PLAN_KEY,
        title="Kế hoạch kiểm tra năm 2024",
        year=2024,
        source_sha256="cd" * 32,
        definition={"plan_key": PLAN_KEY},
        lines=[
            {
                "code": code,
                "title": f"Nhiệm vụ {code}: kiểm tra việc thi hành pháp luật",
                "lead": [LEAD],
                "partners": PARTNER_REFS,
                "due": date(2024, 12, 31),
                "products": ["Kế hoạch", "Báo cáo"],
            }
            for code in (CODE, "2.2.đ", "3.1")
        ],
        actor=OFFICE,
    )


def new_cycle(session: Session, *, code: str = CODE, deadline_days: float = 7) -> ReviewCycle:
    """A cycle at draft, round 1, with a stage deadline (importing the plan if needed)."""
    if latest_plan(session, plan_key=PLAN_KEY) is None:
        import_plan(session)
    return open_cycle(
        session,
        plan_key=PLAN_KEY,
        line_code=code,
        opened_by=OFFICE,
        stage_deadline=later(deadline_days),
    )


def submit(session: Session, cycle_id: str, content: bytes = PDF) -> str:
    version = submit_version(
        session,
        cycle_id=cycle_id,
        content=content,
        filename=PDF_NAME,
        media_type="application/pdf",
        submitted_by=LEAD,
        max_bytes=1_000_000,
    )
    return version.sha256


def advance(session: Session, cycle_id: str, target: Stage, *, back: bool = False) -> None:
    advance_stage(
        session,
        cycle_id=cycle_id,
        target=target,
        actor=ACTOR,
        round_change=1 if back else 0,
        stage_deadline=later(5),
    )


def decide(
    session: Session,
    cycle_id: str,
    stage: Stage,
    round: int,
    unit: str,
    verdict: Verdict,
    text: str,
) -> None:
    sha256 = session.scalars(
        select(DocumentVersion.sha256).where(
            DocumentVersion.cycle_id == cycle_id, DocumentVersion.round == round
        )
    ).one()
    record_decision(
        session,
        cycle_id=cycle_id,
        stage=stage,
        round=round,
        reviewer_unit=unit,
        reviewer_person=None,
        verdict=verdict,
        comment=text,
        document_sha256=sha256,
    )


def in_review(sessions: sessionmaker[Session]) -> str:
    """A cycle whose round-1 document is out for review; its id."""
    with sessions.begin() as session:
        cycle = new_cycle(session)
        submit(session, cycle.id)
        advance(session, cycle.id, Stage.REVIEW)
        return cycle.id


def count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def review(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory, cycle_id: str
) -> list[Mail]:
    """Ask the coordinating units for their opinion on round 1."""
    with sessions.begin() as session:
        return dispatch.request_review(
            session,
            settings=settings,
            directory=directory,
            cycle_id=cycle_id,
            round=1,
            actor=ACTOR,
        )


def deliver(
    sessions: sessionmaker[Session],
    settings: Settings,
    directory: UnitDirectory,
    *,
    now: datetime | None = None,
) -> DeliveryReport:
    """One run of the sender, as the loop or `duyet mail send --once` makes it."""
    return asyncio.run(deliver_due(sessions, settings, directory=directory, now=now))
