"""contents through the API: item overrides, review, script; jobs as the run outbox with steps;
uploads per channel; idempotency keys

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("content_items") as batch_op:
        batch_op.add_column(sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rejected_by", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("template_id", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("channels", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("script", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("script_override", sa.JSON(), nullable=True))
        batch_op.create_index("ix_content_items_created_at_id", ["created_at", "id"])
        batch_op.create_index(
            "ix_content_items_project_id_created_at_id", ["project_id", "created_at", "id"]
        )

    with op.batch_alter_table("jobs") as batch_op:
        batch_op.alter_column("run_id", existing_type=sa.String(64), nullable=True)
        batch_op.add_column(sa.Column("requested_by", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("selection", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("submit_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("submit_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("steps", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("checks", sa.JSON(), nullable=False, server_default="[]"))

    op.create_table(
        "uploads",
        sa.Column("content_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("platform_id", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content_items.id"],
            name=op.f("fk_uploads_content_id_content_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("content_id", "channel", name=op.f("pk_uploads")),
    )

    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_idempotency_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "route", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_keys_expires_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_table("uploads")
    # Requests that never reached Dagster have no run to keep a row for.
    op.execute("DELETE FROM jobs WHERE run_id IS NULL")
    with op.batch_alter_table("jobs") as batch_op:
        for column in (
            "checks",
            "steps",
            "attempts",
            "lease_until",
            "submit_error",
            "submit_attempts",
            "submitted_at",
            "tags",
            "selection",
            "requested_by",
        ):
            batch_op.drop_column(column)
        batch_op.alter_column("run_id", existing_type=sa.String(64), nullable=False)
    with op.batch_alter_table("content_items") as batch_op:
        batch_op.drop_index("ix_content_items_project_id_created_at_id")
        batch_op.drop_index("ix_content_items_created_at_id")
        for column in (
            "script_override",
            "script",
            "channels",
            "template_id",
            "review_note",
            "rejected_by",
            "rejected_at",
        ):
            batch_op.drop_column(column)
