"""Stages are keyed by process stage (`review.appraisal`), not only by kind; decisions may carry
an attachment (Sở Tư pháp's appraisal report); cycles remember when their stage started (a
public-comment period runs from there).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STAGE_CHECK = "stage IN ('draft', 'review', 'approval', 'publication', 'closed')"
STAGE_CHECK = (
    "stage IN ('draft', 'publication', 'closed') OR stage = 'review' OR stage = 'approval' "
    "OR stage LIKE 'review.%' OR stage LIKE 'approval.%'"
)


def upgrade() -> None:
    with op.batch_alter_table("review_cycles") as batch:
        batch.drop_constraint(op.f("ck_review_cycles_stage"), type_="check")
        batch.alter_column(
            "stage", type_=sa.String(32), existing_type=sa.String(16), existing_nullable=False
        )
        batch.create_check_constraint(op.f("ck_review_cycles_stage"), STAGE_CHECK)
        batch.add_column(sa.Column("stage_started_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE review_cycles SET stage_started_at = opened_at")
    with op.batch_alter_table("link_tokens") as batch:
        batch.alter_column(
            "stage", type_=sa.String(32), existing_type=sa.String(16), existing_nullable=False
        )
    with op.batch_alter_table("decisions") as batch:
        batch.alter_column(
            "stage", type_=sa.String(32), existing_type=sa.String(16), existing_nullable=False
        )
        batch.add_column(sa.Column("attachment_sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("attachment_filename", sa.String(255), nullable=True))
        batch.create_foreign_key(
            op.f("fk_decisions_attachment_sha256_document_blobs"),
            "document_blobs",
            ["attachment_sha256"],
            ["sha256"],
        )


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_constraint(
            op.f("fk_decisions_attachment_sha256_document_blobs"), type_="foreignkey"
        )
        batch.drop_column("attachment_filename")
        batch.drop_column("attachment_sha256")
        batch.alter_column(
            "stage", type_=sa.String(16), existing_type=sa.String(32), existing_nullable=False
        )
    with op.batch_alter_table("link_tokens") as batch:
        batch.alter_column(
            "stage", type_=sa.String(16), existing_type=sa.String(32), existing_nullable=False
        )
    with op.batch_alter_table("review_cycles") as batch:
        batch.drop_column("stage_started_at")
        batch.drop_constraint(op.f("ck_review_cycles_stage"), type_="check")
        batch.alter_column(
            "stage", type_=sa.String(16), existing_type=sa.String(32), existing_nullable=False
        )
        batch.create_check_constraint(op.f("ck_review_cycles_stage"), OLD_STAGE_CHECK)
