"""refresh tokens remember their successor; OAuth states hold the client's PKCE challenge

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("refresh_tokens") as batch_op:
        batch_op.add_column(sa.Column("successor_jti", sa.String(length=32), nullable=True))
    # A pending sign-in (10 minutes at most) held our verifier, which its client never saw: it
    # cannot be completed under the new flow. The user starts it again.
    op.execute("DELETE FROM oauth_states")
    with op.batch_alter_table("oauth_states") as batch_op:
        batch_op.drop_column("code_verifier")
        batch_op.add_column(sa.Column("code_challenge", sa.String(length=128), nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM oauth_states")
    with op.batch_alter_table("oauth_states") as batch_op:
        batch_op.drop_column("code_challenge")
        batch_op.add_column(sa.Column("code_verifier", sa.String(length=128), nullable=False))
    with op.batch_alter_table("refresh_tokens") as batch_op:
        batch_op.drop_column("successor_jti")
