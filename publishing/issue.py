"""Issuing a cycle's approved document the way a văn thư does (Decree 30/2020).

In one transaction: take the next number of the issuing body's register for the year and type,
lay the approved text into the type's template with that number and today's date, render the
PDF, sign it with the issuing body's key (PAdES), and keep the signed file for good. A failure
anywhere rolls the number back: the register has no gap.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from definitions.actors import recipients as recipient_units
from definitions.doctypes import doc_type
from definitions.plan import Plan, PlanLine
from definitions.process import Issuing, PublicationStage
from definitions.stage_rules import Stage
from definitions.units import UnitDirectory
from duyet.definition_files import Definitions
from duyet.settings import Settings
from publishing.doctext import document_text
from publishing.keys import ensure_keys
from publishing.render import render_document
from publishing.signing import sign_pdf
from publishing.skeleton import skeleton_spec
from publishing.spec import Block, DocumentSpec, Heading, Issuer, Paragraph, SignerBlock
from records.cycle_reads import get_cycle
from records.documents import document_content, versions_of_cycle
from records.errors import NoDocument
from records.models import PublishedDocument
from records.numbering import next_number, type_key_for
from records.publications import publication_of_cycle, record_publication

PDF_TYPE = "application/pdf"
# A heading line in a typed draft: a Roman or Arabic section number, a Markdown heading, or a
# line in capitals ("I. MỤC ĐÍCH, YÊU CẦU", "## Nội dung", "TỔ CHỨC THỰC HIỆN").
_ROMAN = re.compile(r"^(?:[IVXLC]+|Chương [IVXLC]+)\.\s")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+")
# A draft may give its own trích yếu on its first line; otherwise the plan line's title is used.
_SUMMARY = re.compile(r"^(?:Trích yếu|V/v|Về việc)\s*[:.]?\s*(?P<summary>\S.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Issued:
    """What issuing produced: the register row, the signed file and its `Số:` line."""

    record: PublishedDocument
    pdf: bytes
    number_line: str


def issue_cycle_document(
    session: Session,
    settings: Settings,
    defs: Definitions,
    *,
    cycle_id: str,
    actor: str,
    now: dt.datetime,
) -> Issued:
    """Number, render, sign and record the cycle's approved document; once per cycle."""
    cycle = get_cycle(session, cycle_id=cycle_id)
    plan = defs.plan(cycle.plan_key)
    line = plan.line(cycle.line_code)
    stage = defs.stage(line, Stage.PUBLICATION)
    assert isinstance(stage, PublicationStage)
    existing = publication_of_cycle(session, cycle_id=cycle_id)
    if existing is not None:  # a replay after the commit: the issued file stands
        pdf = document_content(session, sha256=existing.sha256) or b""
        return Issued(existing, pdf, number_line(existing, stage.issuing.year_in_number))
    versions = versions_of_cycle(session, cycle_id=cycle_id)
    if not versions:
        raise NoDocument()
    approved = versions[-1]
    content = document_content(session, sha256=approved.sha256) or b""
    base = document_spec(plan, line, defs.units(plan.id), stage)
    summary, blocks = body_blocks(content, approved.media_type, approved.filename)
    spec = base.model_copy(update={"summary": summary or base.summary, "blocks": blocks})
    return issue_spec(
        session,
        settings,
        spec,
        cycle_id=cycle_id,
        plan_key=cycle.plan_key,
        line_code=cycle.line_code,
        source_sha256=approved.sha256,
        actor=actor,
        now=now,
    )


def issue_spec(
    session: Session,
    settings: Settings,
    spec: DocumentSpec,
    *,
    cycle_id: str | None,
    plan_key: str,
    line_code: str | None,
    source_sha256: str | None,
    actor: str,
    now: dt.datetime,
) -> Issued:
    """Number `spec` from its register, date it today, render, sign and record it: the văn
    thư's part of issuing any document (a cycle's, or the periodic report, which has none)."""
    issued_on = now.astimezone(ZoneInfo(settings.timezone)).date()
    number = next_number(
        session,
        issuer_code=spec.issuer.code,
        year=issued_on.year,
        type_key=type_key_for(spec.type_code),
        now=now,
    )
    spec = spec.model_copy(
        update={"number": number, "date": issued_on, "year": issued_on.year, "draft": False}
    )
    rendered = render_document(spec)
    signed = sign_pdf(
        rendered.pdf,
        keys=settings.keys_dir(spec.issuer.code),
        reason=f"Ban hành văn bản {spec.number_line}",
        location=spec.place,
        signed_at=now,
    )
    record = record_publication(
        session,
        cycle_id=cycle_id,
        plan_key=plan_key,
        line_code=line_code,
        issuer_code=spec.issuer.code,
        type_name=spec.type_name,
        type_code=spec.type_code,
        unit_code=spec.unit_code,
        title=spec.summary,
        issued_at=now,
        issued_on=issued_on,
        signer_name=spec.signer.name,
        pdf=signed,
        html=rendered.html,
        source_sha256=source_sha256,
        filename=file_name(spec),
        number=number,
        actor=actor,
    )
    return Issued(record, signed, spec.number_line)


def issuing_bodies(defs: Definitions) -> dict[str, str]:
    """Code -> name of every body that signs documents here: each department, and the bodies
    its processes have issue (UBND tỉnh for a legal normative document)."""
    bodies: dict[str, str] = {}
    for directory in defs.directories():  # each department whose plan is here
        bodies[directory.organisation.code] = directory.organisation.name
        for process in defs.processes.values():
            for stage in process.stages:
                issuer = stage.issuing.issuer if isinstance(stage, PublicationStage) else None
                if issuer is not None and issuer in {unit.id for unit in directory.units}:
                    unit = directory.unit(issuer)
                    bodies[unit.abbreviation or unit.id] = unit.name
    return bodies


def ensure_signing_keys(settings: Settings, defs: Definitions) -> list[str]:
    """Development keys for every issuing body that has none; the codes it made keys for."""
    return [
        code
        for code, name in issuing_bodies(defs).items()
        if ensure_keys(settings.keys_dir(code), organisation=name, code=code)
    ]


def document_spec(
    plan: Plan, line: PlanLine, directory: UnitDirectory, stage: PublicationStage
) -> DocumentSpec:
    """The line's document as the publication stage issues it (number and date still blank)."""
    skeleton = skeleton_spec(plan=plan, line=line, directory=directory)
    names = [directory.unit(u).name for u in recipient_units(stage, line, directory)]
    update: dict[str, object] = {"recipients": _unique(names) or skeleton.recipients}
    if stage.issuing.type is not None:
        kind = doc_type(stage.issuing.type)
        update |= {"type_name": kind.name, "type_code": kind.abbreviation}
    if stage.issuing.issuer is not None:
        update |= _issued_by(directory, stage.issuing)
    return skeleton.model_copy(update=update)


def _issued_by(directory: UnitDirectory, issuing: Issuing) -> dict[str, object]:
    """Issuer and signer when another body issues (UBND tỉnh adopts a VBQPPL)."""
    assert issuing.issuer is not None
    body = directory.unit(issuing.issuer)
    head = body.head
    authority = f"TM. {_collective(body.name).upper()}"
    return {
        "issuer": Issuer(parent="", name=body.name.upper(), code=body.abbreviation or body.id),
        "signer": SignerBlock(
            authority=authority,
            position=(head.title if head else "Chủ tịch").upper(),
            name=head.name if head else "",
        ),
        "number_year": issuing.year_in_number,
    }


def _collective(name: str) -> str:
    """`Ủy ban nhân dân tỉnh Bình Dương` signs `TM. ỦY BAN NHÂN DÂN` (the body, without place)."""
    return re.split(r"\s+(tỉnh|thành phố|huyện|thị xã|xã)\b", name, maxsplit=1)[0]


def body_blocks(content: bytes, media_type: str, filename: str) -> tuple[str | None, list[Block]]:
    """The approved text as the document's trích yếu (when its first line gives one) and body:
    headings and paragraphs, in order."""
    text = document_text(content, media_type)
    if text is None and media_type == PDF_TYPE:
        text = _pdf_text(content)
    if not text or not text.strip():
        return None, [Paragraph(text=f"Nội dung theo tài liệu đã được phê duyệt: {filename}.")]
    lines = [raw.strip() for raw in text.splitlines() if raw.strip()]
    summary = None
    if lines and (given := _SUMMARY.match(lines[0])):
        summary, lines = given["summary"].rstrip(" ."), lines[1:]
    blocks: list[Block] = []
    for line in lines:
        if _MARKDOWN_HEADING.match(line):
            blocks.append(Heading(text=_MARKDOWN_HEADING.sub("", line)))
        elif _ROMAN.match(line) or (line.isupper() and len(line) > 3):
            blocks.append(Heading(text=line))
        else:
            blocks.append(Paragraph(text=line))
    return summary, blocks


def file_name(spec: DocumentSpec) -> str:
    """`05-KH-SVHTTDL.pdf`: what the văn thư files it under."""
    number = f"{spec.number:02d}" if spec.number is not None else "00"
    year = f"{spec.year}-" if spec.number_year else ""
    return f"{number}-{year}{spec.symbol}.pdf"


def _pdf_text(content: bytes) -> str | None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)
    except (PdfReadError, ValueError, KeyError):
        return None


def number_line(record: PublishedDocument, year_in_number: bool) -> str:
    """`Số: 05/KH-SVHTTDL` (`Số: 15/2023/QĐ-UBND` for a legal normative document)."""
    year = f"{record.year}/" if year_in_number else ""
    return f"Số: {record.number:02d}/{year}{record.symbol}"


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))
