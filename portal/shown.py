"""How the records are shown on the reviewers' and auditors' pages: a document version, a decision,
a document with its text and what changed, the draft's skeleton, a stage's attachment rule."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from definitions.process import AttachmentRule, PublicationStage
from definitions.stage_rules import Stage
from definitions.units import UnitDirectory
from duyet.engine import Definitions
from duyet.messages import PORTAL
from notifications.recipients import unit_name
from portal.diff import Diff, diff_texts
from publishing.doctext import document_text
from publishing.issue import document_spec
from publishing.skeleton import skeleton_text
from publishing.spec import DocumentSpec
from records.documents import document_content
from records.models import Decision, DocumentVersion, ReviewCycle


def skeleton_of(defs: Definitions, cycle: ReviewCycle) -> DocumentSpec:
    """The draft the lead unit starts from, pre-filled from the plan line."""
    plan = defs.plan(cycle.plan_key)
    line = plan.line(cycle.line_code)
    publication = defs.stage(line, Stage.PUBLICATION)
    assert isinstance(publication, PublicationStage)
    spec = document_spec(plan, line, defs.units(plan.id), publication)
    return spec.model_copy(update={"draft": True})


def skeleton(defs: Definitions, cycle: ReviewCycle) -> str | None:
    try:
        return skeleton_text(skeleton_of(defs, cycle))
    except (KeyError, OSError):  # the plan definition is gone: the page still works without
        return None


def attachment_rule(defs: Definitions, cycle: ReviewCycle, key: str) -> AttachmentRule | None:
    """The report a stage asks its answering units to attach (None at most stages)."""
    try:
        stage = defs.stage(defs.line(cycle.plan_key, cycle.line_code), key)
    except (KeyError, OSError):
        return None
    rule = getattr(stage, "attachment", None)
    return rule if isinstance(rule, AttachmentRule) else None


def document_view(
    session: Session, version: DocumentVersion | None, zone: ZoneInfo
) -> dict[str, Any] | None:
    if version is None:
        return None
    content = document_content(session, sha256=version.sha256) or b""
    return version_view(version, zone) | {"text": document_text(content, version.media_type)}


def version_view(version: DocumentVersion, zone: ZoneInfo) -> dict[str, Any]:
    year = version.submitted_at.astimezone(zone).year
    return {
        "round": version.round,
        "filename": version.filename,
        "media_type": version.media_type,
        "size": version.size,
        "sha256": version.sha256,
        "at": version.submitted_at,
        "by": version.submitted_by,
        "receipt": PORTAL["receipt.version"].format(year=year, id=version.id),
    }


def decision_view(decision: Decision, directory: UnitDirectory, zone: ZoneInfo) -> dict[str, Any]:
    year = decision.decided_at.astimezone(zone).year
    return {
        "unit": unit_name(directory, decision.reviewer_unit),
        "person": decision.reviewer_person,
        "stage": decision.stage,
        "round": decision.round,
        "verdict": decision.verdict,
        "comment": decision.comment,
        "at": decision.decided_at,
        "sha256": decision.document_sha256,
        "receipt": PORTAL["receipt.decision"].format(year=year, id=decision.id),
        "attachment": decision.attachment_filename,
        "attachment_sha256": decision.attachment_sha256,
    }


def diff_of(
    session: Session, previous: DocumentVersion | None, current: DocumentVersion
) -> Diff | None:
    if previous is None:
        return None
    old = document_content(session, sha256=previous.sha256) or b""
    new = document_content(session, sha256=current.sha256) or b""
    return diff_texts(
        document_text(old, previous.media_type), document_text(new, current.media_type)
    )
