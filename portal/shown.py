"""How the records are shown on the reviewers' and auditors' pages: a document version, a decision,
a document with its text and what changed, the draft's skeleton, a stage's attachment rule."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from definitions.process import AttachmentRule, PublicationStage
from definitions.stage_rules import Stage
from definitions.units import UnitDirectory
from duyet.definition_files import Definitions
from duyet.messages import PORTAL
from notifications.recipients import unit_name
from portal.diff import Diff, diff_texts
from publishing.doctext import document_text
from publishing.issue import document_spec
from publishing.skeleton import skeleton_text
from publishing.spec import DocumentSpec
from records.documents import document_content
from records.models import Decision, DocumentVersion, ReviewCycle
from records.recent import Recent

# A version's bytes never change (content-addressed, immutable by trigger): its text, and what
# changed between two versions, are worked out once per process, not on every page (a Word
# document is unzipped and parsed, a diff of 200,000 characters takes its time).
_texts: Recent[tuple[str, str], str | None] = Recent(64_000_000, lambda text: len(text or "") + 1)
_diffs: Recent[tuple[str, str, str, str], Diff] = Recent(500_000, lambda diff: len(diff.rows) + 1)


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
    return version_view(version, zone) | {"text": version_text(session, version)}


def version_text(session: Session, version: DocumentVersion) -> str | None:
    """The version's text as shown and compared (None when it is not text)."""

    def make() -> str | None:
        content = document_content(session, sha256=version.sha256) or b""
        return document_text(content, version.media_type)

    return _texts.get_or_make((version.sha256, version.media_type), make)


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
    key = (previous.sha256, previous.media_type, current.sha256, current.media_type)
    return _diffs.get_or_make(
        key, lambda: diff_texts(version_text(session, previous), version_text(session, current))
    )
