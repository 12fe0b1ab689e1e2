"""channels (encrypted token columns), organisations' templates, content media, project voice

Projects of an organisation now name their channels by the id of a ``channels`` row; the
channel names they held become local channels of their own.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 12:00:00.000000
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PROJECTS = sa.table(
    "projects", sa.column("id", sa.String), sa.column("org_id", sa.String),
    sa.column("channels", sa.JSON),
)  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch_op:
        batch_op.add_column(sa.Column("voice", sa.String(length=64), nullable=True))
    channels = op.create_table(
        "channels",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("access_token", sa.LargeBinary(), nullable=True),
        sa.Column("refresh_token", sa.LargeBinary(), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_channels_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_channels_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("slug", name=op.f("uq_channels_slug")),
    )
    op.create_index(op.f("ix_channels_org_id"), "channels", ["org_id"])
    op.create_index(
        "ix_channels_project_id_created_at", "channels", ["project_id", "created_at"]
    )
    op.create_table(
        "templates",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_templates_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
    )
    op.create_index("ix_templates_org_id_created_at", "templates", ["org_id", "created_at"])
    op.create_table(
        "content_media",
        sa.Column("content_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content_items.id"],
            name=op.f("fk_content_media_content_id_content_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("content_id", "kind", name=op.f("pk_content_media")),
    )
    _channel_names_become_rows(channels)


def _channel_names_become_rows(channels: sa.Table) -> None:
    """Each channel name of an organisation's project becomes a local channel row, and the
    project lists the row's id. The sources file's projects (no organisation) keep names."""
    bind = op.get_bind()
    projects = PROJECTS
    now = datetime.now(UTC)
    rows = bind.execute(
        sa.select(projects.c.id, projects.c.org_id, projects.c.channels).where(
            projects.c.org_id.is_not(None)
        )
    ).all()
    for project_id, org_id, names in rows:
        names = json.loads(names) if isinstance(names, str) else (names or [])
        ids = []
        for name in names:
            channel_id = uuid.uuid4().hex
            base = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")[:48] or "channel"
            bind.execute(
                channels.insert().values(
                    id=channel_id, org_id=org_id, project_id=project_id, platform="local",
                    name=name, slug=f"{base}-{channel_id[:8]}", settings={}, state="active",
                    created_at=now,
                )
            )  # fmt: skip
            ids.append(channel_id)
        bind.execute(
            projects.update().where(projects.c.id == project_id).values(channels=ids)
        )


def downgrade() -> None:
    bind = op.get_bind()
    projects = PROJECTS
    channels = sa.table(
        "channels", sa.column("id", sa.String), sa.column("project_id", sa.String),
        sa.column("name", sa.String),
    )  # fmt: skip
    names = dict(bind.execute(sa.select(channels.c.id, channels.c.name)).all())
    rows = bind.execute(
        sa.select(projects.c.id, projects.c.channels).where(projects.c.org_id.is_not(None))
    ).all()
    for project_id, ids in rows:
        ids = json.loads(ids) if isinstance(ids, str) else (ids or [])
        kept = [names[i] for i in ids if i in names] or ["local"]
        bind.execute(
            projects.update().where(projects.c.id == project_id).values(channels=kept)
        )
    # Only the built-ins existed before.
    bind.execute(
        sa.text(
            "UPDATE projects SET template_id = 'short' "
            "WHERE template_id NOT IN ('short', 'long', 'square')"
        )
    )
    op.drop_table("content_media")
    op.drop_index("ix_templates_org_id_created_at", table_name="templates")
    op.drop_table("templates")
    op.drop_index("ix_channels_project_id_created_at", table_name="channels")
    op.drop_index(op.f("ix_channels_org_id"), table_name="channels")
    op.drop_table("channels")
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_column("voice")
