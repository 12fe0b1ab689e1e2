"""publishing to YouTube and TikTok: the uploads journal and retry time, channels without an
organisation (configured in settings) and with the platform's identity, the YouTube quota
ledger, pending channel authorisations

Revision ID: 0011_h19core
Revises: 0010
Create Date: 2026-12-06 07:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_h19core"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads") as batch_op:
        batch_op.add_column(sa.Column("journal", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_uploads_state_retry_at", ["state", "retry_at"])

    with op.batch_alter_table("channels") as batch_op:
        batch_op.alter_column("org_id", existing_type=sa.String(32), nullable=True)
        batch_op.alter_column("project_id", existing_type=sa.String(32), nullable=True)
        batch_op.add_column(sa.Column("identity", sa.JSON(), nullable=True))

    op.create_table(
        "youtube_quota",
        sa.Column("api_project", sa.String(200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bucket", sa.String(16), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("exhausted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("api_project", "day", "bucket", name=op.f("pk_youtube_quota")),
    )

    op.create_table(
        "channel_authorizations",
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("org_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_channel_authorizations_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_channel_authorizations_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_channel_authorizations")),
    )
    op.create_index(
        op.f("ix_channel_authorizations_expires_at"), "channel_authorizations", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_channel_authorizations_expires_at"), "channel_authorizations")
    op.drop_table("channel_authorizations")
    op.drop_table("youtube_quota")
    # Channels configured in settings have no organisation to keep them under.
    op.execute("DELETE FROM channels WHERE org_id IS NULL OR project_id IS NULL")
    with op.batch_alter_table("channels") as batch_op:
        batch_op.drop_column("identity")
        batch_op.alter_column("project_id", existing_type=sa.String(32), nullable=False)
        batch_op.alter_column("org_id", existing_type=sa.String(32), nullable=False)
    with op.batch_alter_table("uploads") as batch_op:
        batch_op.drop_index("ix_uploads_state_retry_at")
        batch_op.drop_column("retry_at")
        batch_op.drop_column("journal")
