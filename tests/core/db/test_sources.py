"""Sources: the file's mirrored, their health, and the API's tenant scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from autoclip_core.db.engine import Database
from autoclip_core.db.models import Organization, Project, Source
from autoclip_core.db.projects import ProjectRepository
from autoclip_core.db.sources import FileProject, SourceRepository, file_source_id, row_values
from autoclip_core.ingest.config import JsonApiSource, RssSource, WebhookSource
from autoclip_core.ingest.state import SourceHealth

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def feed(name: str, **extra: Any) -> RssSource:
    return RssSource(name=name, url="https://ex.com/rss", poll_interval=60.0, **extra)


def test_file_sources_are_mirrored_with_their_projects_settings(db: Database) -> None:
    sources, projects = SourceRepository(db), ProjectRepository(db)
    project = FileProject("news", "News", {"timezone": "Asia/Seoul", "auto_generate": True},
                          (feed("a"), feed("b")))  # fmt: skip
    sources.sync_file_sources([project])
    settings = projects.ensure("news")
    assert (settings.timezone, settings.auto_generate) == ("Asia/Seoul", True)
    assert projects.auto_generating(["news", "other"]) == {"news"}
    rows = sources.records(project="news")
    assert [(r.origin, r.spec) for r in rows] == [("file", feed("a")), ("file", feed("b"))]
    assert rows[0].id == file_source_id("news", "a")
    assert rows[0].health == SourceHealth()

    sources.sync_file_sources([project])  # unchanged: nothing rewritten
    row_id = file_source_id("news", "a")
    with db.transaction() as s:
        assert s.get(Source, row_id).updated_at is None  # type: ignore[union-attr]
    moved = FileProject(
        "news", "News", {"timezone": "UTC", "auto_generate": False}, (feed("a", enabled=False),)
    )
    sources.sync_file_sources([moved])
    [row] = sources.records(project="news")
    assert row.spec == feed("a", enabled=False)
    assert projects.auto_generating(["news"]) == set()
    with db.transaction() as s:
        assert s.get(Source, row_id).updated_at is not None  # type: ignore[union-attr]


def test_health_round_trips_with_utc_times(db: Database) -> None:
    sources = SourceRepository(db)
    sources.sync_file_sources([FileProject("news", None, {}, (feed("a"),))])
    row_id = file_source_id("news", "a")
    health = SourceHealth(
        last_checked_at=T0, last_success_at=T0 - timedelta(hours=1), last_error="HTTP 503",
        consecutive_failures=2, next_poll_at=T0 + timedelta(minutes=4), last_new=3, total_new=9,
    )  # fmt: skip
    sources.save_health({row_id: health, "gone" * 8: SourceHealth()})
    assert sources.health([row_id, "x" * 32]) == {row_id: health}
    assert sources.record(row_id).health.next_poll_at.tzinfo is not None  # type: ignore[union-attr]


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
    sources.sync_file_sources([FileProject("news", None, {}, (feed("f"),))])
    file_row = file_source_id("news", "f")
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
    assert sources.get_readable("o" * 32, file_project, file_row) is None


def test_a_spec_survives_its_row_and_a_bad_row_says_why(db: Database) -> None:
    project = ProjectRepository(db).ensure("news")
    api = JsonApiSource(name="API", url="https://api.example.com/v1",
                        mapping={"items": "data", "published": None}, max_pages=5)  # fmt: skip
    with db.transaction() as s:
        for row_id, spec in (("j" * 32, api), ("w" * 32, WebhookSource(name="CMS"))):
            s.add(Source(id=row_id, project_id=project.id, origin="api", **row_values(spec)))
        s.add(Source(id="b" * 32, project_id=project.id, origin="api", kind="rss", name="Bad",
                     url="https://ex.com/rss", config={"full_text": "sometimes"},
                     poll_interval_s=60.0))  # fmt: skip
    assert row_values(feed("a"))["config"] == {"full_text": "auto"}  # no unset secrets
    sources = SourceRepository(db)
    assert sources.record("j" * 32).spec == api  # type: ignore[union-attr]
    assert sources.record("w" * 32).spec == WebhookSource(name="CMS")  # type: ignore[union-attr]
    bad = sources.record("b" * 32)
    assert bad is not None
    assert bad.spec is None
    assert bad.invalid is not None
    assert bad.invalid.startswith("full_text:")
