"""sources (with their health), pushed items' source, projects' auto_generate, performance

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("poll_interval_s", sa.Float(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret_nonce", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_warning", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_new", sa.Integer(), nullable=False),
        sa.Column("last_duplicates", sa.Integer(), nullable=False),
        sa.Column("total_new", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_sources_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
    )
    op.create_index("ix_sources_project_id_created_at", "sources", ["project_id", "created_at"])
    with op.batch_alter_table("content_items") as batch_op:
        batch_op.add_column(sa.Column("source_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_content_items_source_id"), ["source_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_content_items_source_id_sources"),
            "sources",
            ["source_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("projects") as batch_op:
        batch_op.add_column(
            sa.Column("auto_generate", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "performance_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("content_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("watch_time_s", sa.Float(), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content_items.id"],
            name=op.f("fk_performance_snapshots_content_id_content_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_snapshots")),
    )
    op.create_index(
        "ix_performance_snapshots_content_id_captured_at",
        "performance_snapshots",
        ["content_id", "captured_at"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_performance_snapshots_content_id_captured_at", table_name="performance_snapshots"
    )
    op.drop_table("performance_snapshots")
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_column("auto_generate")
    with op.batch_alter_table("content_items") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_content_items_source_id_sources"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_content_items_source_id"))
        batch_op.drop_column("source_id")
    op.drop_index("ix_sources_project_id_created_at", table_name="sources")
    op.drop_table("sources")
