"""documents: raw AI outputs and events (prompts and answers, safety verdicts, provider call
logs) as JSON, the document store's default backend

Revision ID: 0012_h19store
Revises: 0011_h19core
Create Date: 2026-12-06 08:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_h19store"
down_revision = "0011_h19core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("content_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index("ix_documents_content_id_created_at", "documents", ["content_id", "created_at"])
    op.create_index("ix_documents_kind_created_at", "documents", ["kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_documents_kind_created_at", table_name="documents")
    op.drop_index("ix_documents_content_id_created_at", table_name="documents")
    op.drop_table("documents")
