"""Sources: the file's mirrored, their health, and the API's tenant scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from autoclip_core.db.engine import Database
from autoclip_core.db.models import Organization, Project, Source
from autoclip_core.db.projects import ProjectRepository
from autoclip_core.db.sources import FileProject, SourceDefinition, SourceHealth, SourceRepository

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def feed(source_id: str, **extra: Any) -> SourceDefinition:
    values: dict[str, Any] = {
        "id": source_id * 32, "kind": "rss", "name": source_id, "url": "https://ex.com/rss",
        "config": {"full_text": "auto"}, "poll_interval_s": 60.0, **extra,
    }  # fmt: skip
    return SourceDefinition(**values)


def test_file_sources_are_mirrored_with_their_projects_settings(db: Database) -> None:
    sources, projects = SourceRepository(db), ProjectRepository(db)
    project = FileProject("news", "News", "Asia/Seoul", True, (feed("a"), feed("b")))
    sources.sync_file_sources([project])
    settings = projects.ensure("news")
    assert (settings.timezone, settings.auto_generate) == ("Asia/Seoul", True)
    assert projects.auto_generating(["news", "other"]) == {"news"}
    rows = sources.records(project="news")
    assert [(r.origin, r.definition.name) for r in rows] == [("file", "a"), ("file", "b")]
    assert rows[0].definition == feed("a")
    assert rows[0].health == SourceHealth()

    sources.sync_file_sources([project])  # unchanged: nothing rewritten
    with db.transaction() as s:
        assert s.get(Source, "a" * 32).updated_at is None  # type: ignore[union-attr]
    moved = FileProject("news", "News", "UTC", False, (feed("a", poll_interval_s=120.0),))
    sources.sync_file_sources([moved])
    [row] = sources.records(project="news")
    assert row.definition.poll_interval_s == 120.0
    assert projects.auto_generating(["news"]) == set()
    with db.transaction() as s:
        assert s.get(Source, "a" * 32).updated_at is not None  # type: ignore[union-attr]


def test_health_round_trips_with_utc_times(db: Database) -> None:
    sources = SourceRepository(db)
    sources.sync_file_sources([FileProject("news", None, "UTC", False, (feed("a"),))])
    health = SourceHealth(
        last_checked_at=T0, last_success_at=T0 - timedelta(hours=1), last_error="HTTP 503",
        consecutive_failures=2, next_poll_at=T0 + timedelta(minutes=4), last_new=3, total_new=9,
    )  # fmt: skip
    sources.save_health({"a" * 32: health, "gone" * 8: SourceHealth()})
    assert sources.health(["a" * 32, "x" * 32]) == {"a" * 32: health}
    assert sources.record("a" * 32).health.next_poll_at.tzinfo is not None  # type: ignore[union-attr]


def test_a_push_becomes_the_sources_health(db: Database) -> None:
    sources = SourceRepository(db)
    project = ProjectRepository(db).ensure("news")
    with db.transaction() as s:
        s.add(Source(id="w" * 32, project_id=project.id, origin="api", kind="webhook",
                     name="CMS", config={}, enabled=True, secret_nonce="n"))  # fmt: skip
    sources.record_push("w" * 32, new=2, duplicates=1, warning="item 3: skipped")
    health = sources.record("w" * 32).health  # type: ignore[union-attr]
    assert (health.last_new, health.last_duplicates, health.total_new) == (2, 1, 2)
    assert health.last_warning == "item 3: skipped"
    sources.record_push("gone" * 8, new=1, duplicates=0)  # deleted meanwhile: nothing to do


def test_the_api_reads_only_its_own_sources_of_a_readable_project(db: Database) -> None:
    sources = SourceRepository(db)
    sources.sync_file_sources([FileProject("news", None, "UTC", False, (feed("f"),))])
    with db.transaction() as s:
        s.add(Organization(id="o" * 32, name="O"))
        s.add(Project(id="p" * 32, org_id="o" * 32, slug="mine", name="Mine"))
        s.flush()
        s.add(Source(id="s" * 32, project_id="p" * 32, origin="api", kind="rss", name="RSS",
                     url="https://ex.com/rss", config={}, poll_interval_s=900.0))  # fmt: skip
    assert [s.id for s in sources.list_readable("o" * 32, "p" * 32)] == ["s" * 32]
    assert sources.list_readable("x" * 32, "p" * 32) == []
    assert sources.list_readable(None, "p" * 32) == []
    assert sources.get_readable("o" * 32, "p" * 32, "s" * 32) is not None
    file_project = ProjectRepository(db).ensure("news").id
    assert sources.get_readable("o" * 32, file_project, "f" * 32) is None
