"""Numbering register (sổ đăng ký văn bản đi) and the published documents, immutable once issued.

The database refuses UPDATE and DELETE on published_documents, UPDATE on document_blobs (content
is addressed by its sha256: changing it would be a lie), and DELETE of a blob that a published
document points at. As for the audit chain (0002), this guards against our own mistakes.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHED = "published_documents is immutable"
BLOB_UPDATE = "document_blobs is immutable"
BLOB_DELETE = "document_blobs row is part of a published document"
REFERENCED = (
    "EXISTS (SELECT 1 FROM published_documents p WHERE OLD.sha256 IN "
    "(p.sha256, p.html_sha256, p.source_sha256))"
)


def upgrade() -> None:
    op.create_table(
        "number_registers",
        sa.Column("issuer_code", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("type_key", sa.String(length=16), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("last_number >= 0", name=op.f("ck_number_registers_last_number")),
        sa.PrimaryKeyConstraint(
            "issuer_code", "year", "type_key", name=op.f("pk_number_registers")
        ),
    )
    op.create_table(
        "published_documents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("cycle_id", sa.String(length=36), nullable=True),
        sa.Column("plan_key", sa.String(length=64), nullable=False),
        sa.Column("line_code", sa.String(length=32), nullable=True),
        sa.Column("issuer_code", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("type_key", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("type_name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("html_sha256", sa.String(length=64), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.CheckConstraint("number >= 1", name=op.f("ck_published_documents_number")),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["review_cycles.id"],
            name=op.f("fk_published_documents_cycle_id_review_cycles"),
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["document_blobs.sha256"],
            name=op.f("fk_published_documents_sha256_document_blobs"),
        ),
        sa.ForeignKeyConstraint(
            ["html_sha256"],
            ["document_blobs.sha256"],
            name=op.f("fk_published_documents_html_sha256_document_blobs"),
        ),
        sa.ForeignKeyConstraint(
            ["source_sha256"],
            ["document_blobs.sha256"],
            name=op.f("fk_published_documents_source_sha256_document_blobs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_documents")),
        sa.UniqueConstraint("cycle_id", name=op.f("uq_published_documents_cycle_id")),
        sa.UniqueConstraint("sha256", name=op.f("uq_published_documents_sha256")),
        sa.UniqueConstraint(
            "issuer_code",
            "year",
            "type_key",
            "number",
            name=op.f("uq_published_documents_issuer_code_year_type_key_number"),
        ),
    )
    op.create_index(
        op.f("ix_published_documents_plan_key_issued_at"),
        "published_documents",
        ["plan_key", "issued_at"],
    )
    if op.get_bind().dialect.name == "postgresql":
        _guard_postgresql()
    else:
        _guard_sqlite()


def _guard_postgresql() -> None:
    op.execute(
        f"""
        CREATE FUNCTION published_documents_immutable() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{PUBLISHED}';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER published_documents_immutable BEFORE UPDATE OR DELETE "
        "ON published_documents FOR EACH ROW EXECUTE FUNCTION published_documents_immutable()"
    )
    op.execute(
        "CREATE TRIGGER published_documents_no_truncate BEFORE TRUNCATE ON published_documents "
        "FOR EACH STATEMENT EXECUTE FUNCTION published_documents_immutable()"
    )
    op.execute(
        f"""
        CREATE FUNCTION document_blobs_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                RAISE EXCEPTION '{BLOB_UPDATE}';
            END IF;
            IF {REFERENCED} THEN
                RAISE EXCEPTION '{BLOB_DELETE}';
            END IF;
            RETURN OLD;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER document_blobs_guard BEFORE UPDATE OR DELETE ON document_blobs "
        "FOR EACH ROW EXECUTE FUNCTION document_blobs_guard()"
    )


def _guard_sqlite() -> None:
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER published_documents_no_{verb.lower()} BEFORE {verb} "
            f"ON published_documents BEGIN SELECT RAISE(ABORT, '{PUBLISHED}'); END"
        )
    op.execute(
        "CREATE TRIGGER document_blobs_no_update BEFORE UPDATE ON document_blobs "
        f"BEGIN SELECT RAISE(ABORT, '{BLOB_UPDATE}'); END"
    )
    op.execute(
        f"CREATE TRIGGER document_blobs_no_delete_published BEFORE DELETE ON document_blobs "
        f"WHEN {REFERENCED} BEGIN SELECT RAISE(ABORT, '{BLOB_DELETE}'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER document_blobs_guard ON document_blobs")
        op.execute("DROP FUNCTION document_blobs_guard()")
        op.execute("DROP TRIGGER published_documents_no_truncate ON published_documents")
        op.execute("DROP TRIGGER published_documents_immutable ON published_documents")
        op.execute("DROP FUNCTION published_documents_immutable()")
    else:
        op.execute("DROP TRIGGER document_blobs_no_delete_published")
        op.execute("DROP TRIGGER document_blobs_no_update")
        op.execute("DROP TRIGGER published_documents_no_delete")
        op.execute("DROP TRIGGER published_documents_no_update")
    op.drop_index(
        op.f("ix_published_documents_plan_key_issued_at"), table_name="published_documents"
    )
    op.drop_table("published_documents")
    op.drop_table("number_registers")
