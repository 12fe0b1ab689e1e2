"""The migrations on SQLite and PostgreSQL, and the explicit step every other process needs."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from autoclip_api.__main__ import main
from autoclip_api.context import ApiContext
from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database, make_engine
from autoclip_core.db.migrate import (
    MIGRATE_COMMAND,
    SchemaNotCurrentError,
    alembic_config,
    check_current,
    head_revision,
    upgrade,
)
from autoclip_core.db.models import Base
from autoclip_core.db.projects import ProjectRepository
from autoclip_core.settings import Settings
from autoclip_core.states import ContentState
from resources.app_database import AppDatabase
from sensors.approvals import approval_sensor
from tests.core.db.helpers import item


def columns(db: Database, table: str) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns(table)}


def test_migrations_match_the_models_and_create_every_table(db: Database) -> None:
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    tables = set(inspect(db.engine).get_table_names())
    assert {"projects", "content_items", "jobs", "content_events", "alembic_version"} <= tables
    assert {"users", "organizations", "memberships", "auth_sessions", "refresh_tokens"} <= tables
    check_current(db.engine)


def test_migration_0002_goes_both_ways(db: Database) -> None:
    config = alembic_config(db.url)
    command.downgrade(config, "0001")
    assert "users" not in set(inspect(db.engine).get_table_names())
    assert "org_id" not in columns(db, "projects")
    command.upgrade(config, "head")
    assert "org_id" in columns(db, "projects")


def test_upgrade_keeps_existing_projects_without_an_org(db: Database) -> None:
    config = alembic_config(db.url)
    command.downgrade(config, "0001")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO projects (id, slug, name, review_required, blocked_terms, "
                "default_template, channels, created_at) VALUES ('p1', 'demo', 'Demo', false, "
                "'[]', 'short', '[\"local\"]', '2026-01-01 00:00:00+00')"
            )
        )
    command.upgrade(config, "head")
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT slug, org_id, timezone FROM projects")).one()
    assert tuple(row) == ("demo", None, "UTC")
    assert ProjectRepository(db).ensure("demo").id == "p1"


def test_migration_0003_goes_both_ways_and_keeps_existing_rows(db: Database) -> None:
    ProjectRepository(db).ensure("news")
    ContentRepository(db).register_new_items([item(1)])
    config = alembic_config(db.url)
    command.downgrade(config, "0002")
    tables = set(inspect(db.engine).get_table_names())
    assert not {"sources", "performance_snapshots"} & tables
    assert "source_id" not in columns(db, "content_items")
    command.upgrade(config, "head")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT auto_generate FROM projects")).scalar_one() in (False, 0)
        assert conn.execute(text("SELECT source_id FROM content_items")).scalar_one() is None
    assert ContentRepository(db).status(item(1).id).state == ContentState.DRAFT


def test_migration_0005_keeps_the_template_and_goes_both_ways(db: Database) -> None:
    projects = ProjectRepository(db)
    projects.ensure("news", template_id="long")
    config = alembic_config(db.url)
    command.downgrade(config, "0004")
    assert {"daily_batch", "topic_weights", "template_id"}.isdisjoint(columns(db, "projects"))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT default_template FROM projects")).scalar_one() == "long"
    command.upgrade(config, "head")
    news = projects.ensure("news")
    assert (news.template_id, news.daily_batch, dict(news.topic_weights)) == ("long", None, {})


# the explicit step ---------------------------------------------------------------------------


def test_an_unmigrated_database_is_refused_with_the_command_that_fixes_it(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    with pytest.raises(SchemaNotCurrentError, match="has no schema yet") as refused:
        check_current(engine)
    assert f"run `{MIGRATE_COMMAND}`" in str(refused.value)
    assert inspect(engine).get_table_names() == []  # checking created nothing
    engine.dispose()


def test_an_outdated_database_is_refused(db: Database) -> None:
    command.downgrade(alembic_config(db.url), "0002")
    with pytest.raises(SchemaNotCurrentError, match=f"at revision 0002, not {head_revision()}"):
        check_current(db.engine)


def test_the_pipeline_does_not_migrate_on_first_use(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    with pytest.raises(SchemaNotCurrentError, match=MIGRATE_COMMAND):
        AppDatabase(url=url).projects.all()
    upgrade(url)
    assert AppDatabase(url=url).projects.all() == []  # no stale failure cached


def test_a_sensor_on_an_unmigrated_database_fails_clearly(tmp_path: Path) -> None:
    context = dg.build_sensor_context(
        resources={"app_db": AppDatabase(url=f"sqlite:///{tmp_path / 'app.db'}")}
    )
    with pytest.raises(SchemaNotCurrentError, match=MIGRATE_COMMAND):
        approval_sensor(context)


def test_the_api_refuses_to_start_before_the_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTOCLIP_DATA_DIR", str(tmp_path))
    for name in ("AUTOCLIP_DATABASE_URL", "AUTOCLIP_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTOCLIP_ENV", "local")
    assert main(["serve"]) == 2
    assert f"run `{MIGRATE_COMMAND}`" in capsys.readouterr().err
    with pytest.raises(SchemaNotCurrentError):
        ApiContext.from_settings(Settings(data_dir=tmp_path))
    assert main(["migrate"]) == 0
    ApiContext.from_settings(Settings(data_dir=tmp_path)).close()
