"""Migration 0002 on SQLite and PostgreSQL: it matches the models and goes both ways."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from autoclip_core.models import Base
from autoclip_core.store import ContentStore, alembic_config


def test_migrations_match_the_models_and_downgrade(store: ContentStore) -> None:
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    tables = set(inspect(store.engine).get_table_names())
    assert {"users", "organizations", "memberships", "auth_sessions", "refresh_tokens"} <= tables
    config = alembic_config(store.url)
    command.downgrade(config, "0001")
    assert "users" not in set(inspect(store.engine).get_table_names())
    assert "org_id" not in {c["name"] for c in inspect(store.engine).get_columns("projects")}
    command.upgrade(config, "head")
    assert "org_id" in {c["name"] for c in inspect(store.engine).get_columns("projects")}


def test_pipeline_projects_without_an_org_still_work(store: ContentStore) -> None:
    settings = store.ensure_project("demo", review_required=True)
    assert settings.slug == "demo"
    assert store.ensure_project("demo").id == settings.id


def test_upgrade_keeps_existing_projects_without_an_org(store: ContentStore) -> None:
    config = alembic_config(store.url)
    command.downgrade(config, "0001")
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO projects (id, slug, name, review_required, blocked_terms, "
                "default_template, channels, created_at) VALUES ('p1', 'demo', 'Demo', false, "
                "'[]', 'short', '[\"local\"]', '2026-01-01 00:00:00+00')"
            )
        )
    command.upgrade(config, "head")
    with store.engine.connect() as conn:
        row = conn.execute(text("SELECT slug, org_id, timezone FROM projects")).one()
    assert tuple(row) == ("demo", None, "UTC")
    assert store.ensure_project("demo").id == "p1"
