"""Issuing the periodic report: once per plan and period, numbered in the BC register, signed,
kept with its annex, and sent to the Office and the Director's board.

The annex is the report's source: its XLSX is kept as the published record's `source_sha256`,
so the register holds both files for good and a replay finds them there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from definitions.plan import Plan, ReportingDate
from duyet.definition_files import Definitions
from duyet.messages import REPORT
from duyet.settings import Settings
from notifications.context import Document
from notifications.notices import notify_progress_report
from publishing.annex import XLSX_TYPE
from publishing.issue import PDF_TYPE, Issued, issue_spec, number_line
from publishing.periods import period_phrase
from publishing.report import REPORT_TYPE, compile_report, report_summary
from records.documents import document_content, store_blob
from records.models import PublishedDocument
from records.numbering import type_key_for


@dataclass(frozen=True)
class IssuedReport(Issued):
    """The issued report, and its annex."""

    annex: bytes
    annex_filename: str
    found: bool  # issued before: nothing was numbered or signed this time


def issue_report(
    session: Session,
    settings: Settings,
    defs: Definitions,
    plan: Plan,
    *,
    period: ReportingDate,
    now: dt.datetime,
    actor: str,
) -> IssuedReport:
    """The report of `plan` for `period`: the one issued before, else a new one; its mail is
    queued once either way. In the caller's transaction."""
    existing = issued_report(session, plan=plan, period=period)
    if existing is not None:
        pdf = document_content(session, sha256=existing.sha256) or b""
        xlsx = document_content(session, sha256=existing.source_sha256 or "") or b""
        issued = IssuedReport(
            existing, pdf, number_line(existing, False), xlsx, annex_name(existing), found=True
        )
    else:
        report = compile_report(session, defs, plan, period=period, now=now)
        source = store_blob(session, content=report.xlsx, media_type=XLSX_TYPE, now=now)
        new = issue_spec(
            session,
            settings,
            report.spec,
            cycle_id=None,
            plan_key=plan.id,
            line_code=None,
            source_sha256=source,
            actor=actor,
            now=now,
        )
        issued = IssuedReport(
            new.record,
            new.pdf,
            new.number_line,
            report.xlsx,
            annex_name(new.record),
            found=False,
        )
    _send(session, settings, defs, plan, period, issued, actor=actor, now=now)
    return issued


def issued_report(
    session: Session, *, plan: Plan, period: ReportingDate
) -> PublishedDocument | None:
    """The report already issued on `plan` for `period`, told apart by its trích yếu."""
    query = select(PublishedDocument).where(
        PublishedDocument.plan_key == plan.id,
        PublishedDocument.cycle_id.is_(None),
        PublishedDocument.line_code.is_(None),
        PublishedDocument.type_key == type_key_for(REPORT_TYPE.abbreviation),
        PublishedDocument.title == report_summary(plan, period),
    )
    return session.scalars(query.order_by(PublishedDocument.issued_at)).first()


def annex_name(record: PublishedDocument) -> str:
    """`05-BC-SVHTTDL-phu-luc.xlsx`, beside the report's `05-BC-SVHTTDL.pdf`."""
    return REPORT["annex-file"].format(stem=PurePath(record.filename).stem)


def _send(
    session: Session,
    settings: Settings,
    defs: Definitions,
    plan: Plan,
    period: ReportingDate,
    issued: IssuedReport,
    *,
    actor: str,
    now: dt.datetime,
) -> None:
    record = issued.record
    base = settings.require_public_base_url() if settings.public_base_url else None
    notify_progress_report(
        session,
        settings=settings,
        directory=defs.units(plan.id),
        plan_key=plan.id,
        plan_title=plan.title,
        period=period_phrase(period, plan.year),
        number=issued.number_line,
        published_on=record.issued_on,
        document=Document(
            filename=record.filename,
            sha256=record.sha256,
            size=len(issued.pdf),
            media_type=PDF_TYPE,
        ),
        annex=Document(
            filename=issued.annex_filename,
            sha256=record.source_sha256 or "",
            size=len(issued.annex),
            media_type=XLSX_TYPE,
        ),
        public_url=f"{base}/van-ban/{record.id}" if base else None,
        actor=actor,
        now=now,
    )
