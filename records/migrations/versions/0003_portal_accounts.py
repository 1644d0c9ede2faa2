"""Portal: accounts (office, auditor, admin), login attempts for the rate limit, link delegations.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('office', 'auditor', 'admin')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client_ip", sa.String(length=45), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(
        op.f("ix_login_attempts_client_ip_at"), "login_attempts", ["client_ip", "at"], unique=False
    )
    op.create_index(
        op.f("ix_login_attempts_username_at"), "login_attempts", ["username", "at"], unique=False
    )
    op.create_table(
        "link_delegations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_link_id", sa.Integer(), nullable=False),
        sa.Column("to_link_id", sa.Integer(), nullable=False),
        sa.Column("to_email", sa.String(length=320), nullable=False),
        sa.Column("delegated_by", sa.String(length=200), nullable=False),
        sa.Column("delegated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_link_id"],
            ["link_tokens.id"],
            name=op.f("fk_link_delegations_from_link_id_link_tokens"),
        ),
        sa.ForeignKeyConstraint(
            ["to_link_id"],
            ["link_tokens.id"],
            name=op.f("fk_link_delegations_to_link_id_link_tokens"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_delegations")),
        sa.UniqueConstraint("from_link_id", name=op.f("uq_link_delegations_from_link_id")),
        sa.UniqueConstraint("to_link_id", name=op.f("uq_link_delegations_to_link_id")),
    )


def downgrade() -> None:
    op.drop_table("link_delegations")
    op.drop_index(op.f("ix_login_attempts_username_at"), table_name="login_attempts")
    op.drop_index(op.f("ix_login_attempts_client_ip_at"), table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_table("users")
