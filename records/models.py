"""The records schema: plans, cycles, documents, decisions, links, outbox and the audit chain."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# A stage key is a kind, or a kind and a name when a process has several stages of that kind.
STAGE_CHECK = (
    "stage IN ('draft', 'publication', 'closed') OR stage = 'review' OR stage = 'approval' "
    "OR stage LIKE 'review.%' OR stage LIKE 'approval.%'"
)
STATUSES = ("open", "published", "rejected", "cancelled")
MAIL_STATUSES = ("pending", "sent", "dead")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend; SQLite stores them naive, in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON, list[str]: JSON}


class PlanVersion(Base):
    """One imported content of a plan; re-importing changed content adds version N+1."""

    __tablename__ = "plan_versions"

    plan_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    year: Mapped[int]
    source_sha256: Mapped[str] = mapped_column(String(64))
    content_sha256: Mapped[str] = mapped_column(String(64))
    definition: Mapped[str] = mapped_column(Text)  # canonical JSON
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime]

    lines: Mapped[list[PlanLine]] = relationship(
        back_populates="plan", order_by="PlanLine.position", lazy="selectin"
    )

    __table_args__ = (CheckConstraint("version >= 1", name="version"),)


class PlanLine(Base):
    """A line of one plan version, kept as imported."""

    __tablename__ = "plan_lines"

    plan_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    plan_version: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(Text)
    lead: Mapped[list[str]]
    partners: Mapped[list[str]]
    due: Mapped[date | None] = mapped_column(Date)
    extra: Mapped[dict[str, Any]]  # the importer's other fields (products, timeline, warnings…)

    plan: Mapped[PlanVersion] = relationship(back_populates="lines")

    __table_args__ = (
        ForeignKeyConstraint(
            ["plan_key", "plan_version"], ["plan_versions.plan_key", "plan_versions.version"]
        ),
    )


class ReviewCycle(Base):
    """One review-and-approval cycle of a plan line, from draft to closed."""

    __tablename__ = "review_cycles"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_key: Mapped[str] = mapped_column(String(64))
    plan_version: Mapped[int]
    line_code: Mapped[str] = mapped_column(String(32))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(32))
    round: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime]
    stage_deadline: Mapped[datetime | None]
    stage_started_at: Mapped[datetime | None]  # a public-comment period runs from here
    due: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        ForeignKeyConstraint(
            ["plan_key", "plan_version", "line_code"],
            ["plan_lines.plan_key", "plan_lines.plan_version", "plan_lines.code"],
        ),
        CheckConstraint(STAGE_CHECK, name="stage"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint("round >= 1", name="round"),
        CheckConstraint("(status = 'open') = (stage <> 'closed')", name="open_until_closed"),
        Index(None, "plan_key", "line_code"),
    )


class DocumentBlob(Base):
    """Document content, stored once per sha256."""

    __tablename__ = "document_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int]
    media_type: Mapped[str] = mapped_column(String(200))
    stored_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("size >= 0", name="size"),)


class DocumentVersion(Base):
    """The document a cycle put up for one round."""

    __tablename__ = "document_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[str] = mapped_column(ForeignKey("review_cycles.id"))
    round: Mapped[int]
    sha256: Mapped[str] = mapped_column(ForeignKey("document_blobs.sha256"))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("cycle_id", "round"),)


class LinkToken(Base):
    """A reviewer's single-use link; only the sha256 of the token is kept."""

    __tablename__ = "link_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    cycle_id: Mapped[str] = mapped_column(ForeignKey("review_cycles.id"))
    stage: Mapped[str] = mapped_column(String(32))
    round: Mapped[int]
    recipient_unit: Mapped[str] = mapped_column(String(64))
    recipient_email: Mapped[str] = mapped_column(String(320))
    document_sha256: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Decision(Base):
    """What one reviewing unit decided at one stage and round of a cycle."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[str] = mapped_column(ForeignKey("review_cycles.id"))
    stage: Mapped[str] = mapped_column(String(32))
    round: Mapped[int]
    reviewer_unit: Mapped[str] = mapped_column(String(64))
    reviewer_person: Mapped[str | None] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text)
    document_sha256: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime]
    client_ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("link_tokens.id"), unique=True)
    # a report attached to the decision (Sở Tư pháp's appraisal report)
    attachment_sha256: Mapped[str | None] = mapped_column(ForeignKey("document_blobs.sha256"))
    attachment_filename: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (UniqueConstraint("cycle_id", "stage", "round", "reviewer_unit"),)


class Mail(Base):
    """A message waiting in (or sent from) the outbox; one per idempotency key."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(400), unique=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    cycle_id: Mapped[str | None] = mapped_column(ForeignKey("review_cycles.id"))
    kind: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(32))
    round: Mapped[int]
    recipient: Mapped[str] = mapped_column(String(64))
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(_in("status", MAIL_STATUSES), name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index(None, "status", "next_attempt_at"),
    )


class AuditEvent(Base):
    """One link of the audit chain; `hash` covers `prev_hash` and the canonical entry."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))  # the exact UTC ISO string that was hashed
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


ROLES = ("office", "auditor", "admin")


class User(Base):
    """A portal account (Office staff, auditors, administrators); reviewers need none."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, PHC string
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]

    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)


class LoginAttempt(Base):
    """One try at the portal's login form: what the rate limit counts (not part of the chain)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))  # as typed, lower-cased and cut
    client_ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime]
    succeeded: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index(None, "client_ip", "at"), Index(None, "username", "at"))


class LinkDelegation(Base):
    """A reviewer forwarded a pending link to a colleague: the old link died, a new one went out."""

    __tablename__ = "link_delegations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    from_link_id: Mapped[int] = mapped_column(ForeignKey("link_tokens.id"), unique=True)
    to_link_id: Mapped[int] = mapped_column(ForeignKey("link_tokens.id"), unique=True)
    to_email: Mapped[str] = mapped_column(String(320))
    delegated_by: Mapped[str] = mapped_column(String(200))
    delegated_at: Mapped[datetime]


class NumberRegister(Base):
    """Sổ đăng ký văn bản đi: the last number given per issuer, year and document type."""

    __tablename__ = "number_registers"

    issuer_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    type_key: Mapped[str] = mapped_column(String(16), primary_key=True)  # KH, BC, QĐ…; CV
    last_number: Mapped[int]
    updated_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number"),)


class PublishedDocument(Base):
    """A document issued with its number: the signed PDF, never changed once recorded."""

    __tablename__ = "published_documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    cycle_id: Mapped[str | None] = mapped_column(ForeignKey("review_cycles.id"), unique=True)
    plan_key: Mapped[str] = mapped_column(String(64))
    line_code: Mapped[str | None] = mapped_column(String(32))
    issuer_code: Mapped[str] = mapped_column(String(64))
    year: Mapped[int]
    type_key: Mapped[str] = mapped_column(String(16))
    number: Mapped[int]
    symbol: Mapped[str] = mapped_column(String(64))  # KH-SVHTTDL, SVHTTDL-VP
    type_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)  # trích yếu
    issued_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime]
    signer_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(ForeignKey("document_blobs.sha256"), unique=True)
    html_sha256: Mapped[str] = mapped_column(ForeignKey("document_blobs.sha256"))
    source_sha256: Mapped[str | None] = mapped_column(ForeignKey("document_blobs.sha256"))
    filename: Mapped[str] = mapped_column(String(255))

    __table_args__ = (
        UniqueConstraint("issuer_code", "year", "type_key", "number"),
        CheckConstraint("number >= 1", name="number"),
        Index(None, "plan_key", "issued_at"),
    )
