"""A rendered mail, before it is queued: kind, subject, text and HTML bodies, attachments."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class MailKind(StrEnum):
    DRAFT_REQUEST = "draft_request"
    REVIEW_REQUEST = "review_request"
    APPROVAL_REQUEST = "approval_request"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"
    PUBLISHED = "published"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    DIGEST = "digest"
    CANCELLED = "cancelled"  # a cycle withdrawn: the units are told, links die
    DEAD_LETTER = "dead_letter"  # to the Office: a mail could not be delivered
    PROGRESS_REPORT = "progress_report"  # the periodic report on the plan, issued and signed


@dataclass(frozen=True)
class Attachment:
    """A file sent with a mail: inline `content`, or a stored document named by `sha256`."""

    filename: str
    media_type: str  # type/subtype, parameters apart
    content: bytes | None = None
    sha256: str | None = None
    size: int | None = None
    params: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if (self.content is None) == (self.sha256 is None):
            raise ValueError("an attachment has either inline content or a stored sha256")

    def to_record(self) -> dict[str, Any]:
        """The JSON an outbox row keeps of it."""
        record: dict[str, Any] = {"filename": self.filename, "media_type": self.media_type}
        if self.params:
            record["params"] = dict(self.params)
        if self.content is not None:
            record["content_b64"] = base64.b64encode(self.content).decode("ascii")
        if self.sha256 is not None:
            record["sha256"] = self.sha256
        if self.size is not None:
            record["size"] = self.size
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Attachment:
        content = record.get("content_b64")
        return cls(
            filename=str(record["filename"]),
            media_type=str(record.get("media_type") or "application/octet-stream"),
            content=base64.b64decode(content) if content is not None else None,
            sha256=record.get("sha256"),
            size=record.get("size"),
            params=tuple(sorted((record.get("params") or {}).items())),
        )


@dataclass(frozen=True)
class Mail:
    """What `render` makes of a context: pure data, not yet addressed or queued."""

    kind: MailKind
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = field(default=())
