"""Records schema: plans, cycles, documents, decisions, links, outbox, audit chain.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 18:10:35.591610
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    op.create_table(
        "document_blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size >= 0", name=op.f("ck_document_blobs_size")),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_document_blobs")),
    )
    op.create_table(
        "plan_versions",
        sa.Column("plan_key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_plan_versions_version")),
        sa.PrimaryKeyConstraint("plan_key", "version", name=op.f("pk_plan_versions")),
    )
    op.create_table(
        "plan_lines",
        sa.Column("plan_key", sa.String(length=64), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("lead", sa.JSON(), nullable=False),
        sa.Column("partners", sa.JSON(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_key", "plan_version"],
            ["plan_versions.plan_key", "plan_versions.version"],
            name=op.f("fk_plan_lines_plan_key_plan_versions"),
        ),
        sa.PrimaryKeyConstraint("plan_key", "plan_version", "code", name=op.f("pk_plan_lines")),
    )
    op.create_table(
        "review_cycles",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("plan_key", sa.String(length=64), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("line_code", sa.String(length=32), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_by", sa.String(length=200), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stage_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.CheckConstraint(
            "(status = 'open') = (stage <> 'closed')",
            name=op.f("ck_review_cycles_open_until_closed"),
        ),
        sa.CheckConstraint(
            "stage IN ('draft', 'review', 'approval', 'publication', 'closed')",
            name=op.f("ck_review_cycles_stage"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'published', 'rejected', 'cancelled')",
            name=op.f("ck_review_cycles_status"),
        ),
        sa.CheckConstraint("round >= 1", name=op.f("ck_review_cycles_round")),
        sa.ForeignKeyConstraint(
            ["plan_key", "plan_version", "line_code"],
            ["plan_lines.plan_key", "plan_lines.plan_version", "plan_lines.code"],
            name=op.f("fk_review_cycles_plan_key_plan_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_cycles")),
    )
    op.create_index(
        op.f("ix_review_cycles_plan_key_line_code"), "review_cycles", ["plan_key", "line_code"]
    )
    op.create_table(
        "document_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.String(length=36), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["review_cycles.id"],
            name=op.f("fk_document_versions_cycle_id_review_cycles"),
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["document_blobs.sha256"],
            name=op.f("fk_document_versions_sha256_document_blobs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_versions")),
        sa.UniqueConstraint("cycle_id", "round", name=op.f("uq_document_versions_cycle_id_round")),
    )
    op.create_table(
        "link_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("cycle_id", sa.String(length=36), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("recipient_unit", sa.String(length=64), nullable=False),
        sa.Column("recipient_email", sa.String(length=320), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["review_cycles.id"], name=op.f("fk_link_tokens_cycle_id_review_cycles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_link_tokens_token_hash")),
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=400), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("cycle_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("to_addr", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'dead')", name=op.f("ck_mail_outbox_status")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_mail_outbox_attempts")),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["review_cycles.id"], name=op.f("fk_mail_outbox_cycle_id_review_cycles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_mail_outbox_idempotency_key")),
        sa.UniqueConstraint("message_id", name=op.f("uq_mail_outbox_message_id")),
    )
    op.create_index(
        op.f("ix_mail_outbox_status_next_attempt_at"), "mail_outbox", ["status", "next_attempt_at"]
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.String(length=36), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("reviewer_unit", sa.String(length=64), nullable=False),
        sa.Column("reviewer_person", sa.String(length=200), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=500), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["review_cycles.id"], name=op.f("fk_decisions_cycle_id_review_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["link_tokens.id"], name=op.f("fk_decisions_token_id_link_tokens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
        sa.UniqueConstraint(
            "cycle_id",
            "stage",
            "round",
            "reviewer_unit",
            name=op.f("uq_decisions_cycle_id_stage_round_reviewer_unit"),
        ),
        sa.UniqueConstraint("token_id", name=op.f("uq_decisions_token_id")),
    )


def downgrade() -> None:
    op.drop_table("decisions")
    op.drop_index(op.f("ix_mail_outbox_status_next_attempt_at"), table_name="mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_table("link_tokens")
    op.drop_table("document_versions")
    op.drop_index(op.f("ix_review_cycles_plan_key_line_code"), table_name="review_cycles")
    op.drop_table("review_cycles")
    op.drop_table("plan_lines")
    op.drop_table("plan_versions")
    op.drop_table("document_blobs")
    op.drop_table("audit_events")
