"""projects hold all their settings: template, daily batch, topic weights

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch_op:
        batch_op.alter_column(
            "default_template",
            new_column_name="template_id",
            existing_type=sa.String(32),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("daily_batch", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("topic_weights", sa.JSON(), nullable=False, server_default="{}")
        )


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_column("topic_weights")
        batch_op.drop_column("daily_batch")
        batch_op.alter_column(
            "template_id",
            new_column_name="default_template",
            existing_type=sa.String(32),
            existing_nullable=False,
        )
