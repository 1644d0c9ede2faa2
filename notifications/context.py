"""What each kind of mail says, as typed data: the only input of `render`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from notifications.mail import MailKind

StageName = Annotated[
    str, Field(pattern=r"^(draft|publication|review|approval)(\.[a-z][a-z0-9_]*)?$")
]
VerdictName = Literal["approve", "changes", "reject"]
SHA256 = r"^[0-9a-f]{64}$"


class Context(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sender(Context):
    """Who writes: the organisation and its Office (the signature)."""

    organisation: str
    office: str
    portal_url: str | None = None  # the portal's home, without any token (calendar events)


class Line(Context):
    code: str = Field(min_length=1)
    title: str
    products: list[str] = []


class Document(Context):
    filename: str
    sha256: str = Field(pattern=SHA256)
    size: int = Field(ge=0)
    media_type: str


class Comment(Context):
    """One unit's opinion, as compiled for the lead unit."""

    unit: str
    stage: StageName
    verdict: VerdictName
    person: str | None = None
    text: str
    decided_on: date


class Action(Context):
    """The one link of a request: in a queued mail `url` is a slot the sender fills in."""

    url: str
    stage: StageName
    round: int = Field(ge=1)
    deadline: date
    calendar_uid: str


class Base(Context):
    sender: Sender
    recipient: str  # after "Kính gửi:"
    issued_at: AwareDatetime


class LineMail(Base):
    line: Line
    round: int = Field(ge=1)


class DraftRequest(LineMail):
    action: Action
    previous: Document | None = None  # the version the comments were made on
    comments: list[Comment] = []


class ReviewRequest(LineMail):
    action: Action
    document: Document


class ApprovalRequest(LineMail):
    action: Action
    document: Document
    comments: list[Comment] = []  # the reviewers' opinions, for the approver


class ChangesRequested(LineMail):
    """The reviewers asked for changes: every comment, and the link to submit the next round."""

    action: Action
    previous: Document | None = None
    comments: list[Comment]


class Rejected(LineMail):
    document: Document | None = None
    comments: list[Comment] = []
    reason: str = ""


class Published(LineMail):
    document: Document
    published_on: date
    number: str | None = None  # `Số: 05/KH-SVHTTDL`: the issued, signed document
    public_url: str | None = None  # the public page where anyone can check it


class Reminder(LineMail):
    action: Action
    days_left: int = Field(ge=0)  # working days
    document: Document | None = None


class Escalation(LineMail):
    stage: StageName
    deadline: date
    days_overdue: int = Field(ge=0)  # working days
    late_units: list[str] = Field(min_length=1)
    to: Literal["head", "board"]
    action: Action | None = None  # a unit head may act for the unit; the board is informed


class DigestItem(Context):
    line: Line
    action: Action
    document: Document | None = None


class Digest(Base):
    on: date
    items: list[DigestItem] = Field(min_length=1)


class Cancelled(LineMail):
    stage: StageName | None  # where the cycle stopped, when known
    reason: str


class FailedMail(Context):
    mail_id: int
    kind: str  # a MailKind, or a kind queued by other code
    to: str
    subject: str
    attempts: int
    last_error: str | None
    message_id: str
    created_at: datetime


class DeadLetter(Base):
    code: str  # of the line the failed mail was about
    failed: FailedMail


class ProgressReport(Base):
    """The periodic report (báo cáo định kỳ) on a plan, issued: the signed PDF and its annex."""

    plan_title: str
    period: str  # as the report names it: `quý I năm 2023`
    number: str  # `Số: 05/BC-SVHTTDL`
    published_on: date
    document: Document  # the signed PDF
    annex: Document  # the XLSX: every line's status
    public_url: str | None = None  # the register page of the report


CONTEXTS: dict[MailKind, type[Base]] = {
    MailKind.DRAFT_REQUEST: DraftRequest,
    MailKind.REVIEW_REQUEST: ReviewRequest,
    MailKind.APPROVAL_REQUEST: ApprovalRequest,
    MailKind.CHANGES_REQUESTED: ChangesRequested,
    MailKind.REJECTED: Rejected,
    MailKind.PUBLISHED: Published,
    MailKind.REMINDER: Reminder,
    MailKind.ESCALATION: Escalation,
    MailKind.DIGEST: Digest,
    MailKind.CANCELLED: Cancelled,
    MailKind.DEAD_LETTER: DeadLetter,
    MailKind.PROGRESS_REPORT: ProgressReport,
}
