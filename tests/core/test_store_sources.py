"""Migration 0003 and the store's sources, pushes and performance, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, text

from autoclip_core.models import Source
from autoclip_core.schemas import SourceItem
from autoclip_core.states import ContentState
from autoclip_core.store import (
    ContentStore,
    FileProject,
    PerformanceSample,
    SourceDefinition,
    SourceHealth,
    alembic_config,
)

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def item(n: int, project: str = "news") -> SourceItem:
    return SourceItem(id=f"{project}-{n:04d}", project=project, source="feed",
                      url=f"https://ex.com/{n}", title=f"Story {n}", text=f"Text {n}.")  # fmt: skip


def feed(source_id: str, **extra: Any) -> SourceDefinition:
    values: dict[str, Any] = {
        "id": source_id * 32, "kind": "rss", "name": source_id, "url": "https://ex.com/rss",
        "config": {"full_text": "auto"}, "poll_interval_s": 60.0, **extra,
    }  # fmt: skip
    return SourceDefinition(**values)


def test_migration_0003_goes_both_ways_and_keeps_existing_rows(store: ContentStore) -> None:
    store.ensure_project("news")
    store.register_new_items([item(1)])
    config = alembic_config(store.url)
    command.downgrade(config, "0002")
    tables = set(inspect(store.engine).get_table_names())
    assert not {"sources", "performance_snapshots"} & tables
    assert "source_id" not in {
        c["name"] for c in inspect(store.engine).get_columns("content_items")
    }
    command.upgrade(config, "head")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT auto_generate FROM projects")).scalar_one() in (False, 0)
        assert conn.execute(text("SELECT source_id FROM content_items")).scalar_one() is None
    assert store.status(item(1).id).state == ContentState.DRAFT


def test_file_sources_are_mirrored_with_their_projects_settings(store: ContentStore) -> None:
    project = FileProject("news", "News", "Asia/Seoul", True, (feed("a"), feed("b")))
    store.sync_file_sources([project])
    settings = store.ensure_project("news")
    assert (settings.timezone, settings.auto_generate) == ("Asia/Seoul", True)
    assert store.auto_generating(["news", "other"]) == {"news"}
    rows = store.sources(project="news")
    assert [(r.origin, r.definition.name) for r in rows] == [("file", "a"), ("file", "b")]
    assert rows[0].definition == feed("a")
    assert rows[0].health == SourceHealth()

    store.sync_file_sources([project])  # unchanged: nothing rewritten
    with store.session() as s:
        assert s.get(Source, "a" * 32).updated_at is None  # type: ignore[union-attr]
    moved = FileProject("news", "News", "UTC", False, (feed("a", poll_interval_s=120.0),))
    store.sync_file_sources([moved])
    [row] = store.sources(project="news")
    assert row.definition.poll_interval_s == 120.0
    assert store.auto_generating(["news"]) == set()
    with store.session() as s:
        assert s.get(Source, "a" * 32).updated_at is not None  # type: ignore[union-attr]


def test_health_round_trips_with_utc_times(store: ContentStore) -> None:
    store.sync_file_sources([FileProject("news", None, "UTC", False, (feed("a"),))])
    health = SourceHealth(
        last_checked_at=T0, last_success_at=T0 - timedelta(hours=1), last_error="HTTP 503",
        consecutive_failures=2, next_poll_at=T0 + timedelta(minutes=4), last_new=3, total_new=9,
    )  # fmt: skip
    store.save_source_health({"a" * 32: health, "gone" * 8: SourceHealth()})
    assert store.source_health(["a" * 32, "x" * 32]) == {"a" * 32: health}
    assert store.source("a" * 32).health.next_poll_at.tzinfo is not None  # type: ignore[union-attr]


def test_pushed_items_carry_their_source_and_are_listed_since(store: ContentStore) -> None:
    project = store.ensure_project("news")
    with store.session() as s:
        s.add(Source(id="w" * 32, project_id=project.id, origin="api", kind="webhook",
                     name="CMS", config={}, enabled=True, secret_nonce="n"))  # fmt: skip
    store.register_new_items([item(1)])  # polled
    assert store.register_new_items([item(2), item(3)], source_id="w" * 32) == [
        item(2).id, item(3).id]  # fmt: skip
    pushed = store.pushed_items_since(datetime.now(UTC) - timedelta(minutes=1))
    assert [(p.id, p.project, p.source_id) for p in pushed] == [
        (item(2).id, "news", "w" * 32), (item(3).id, "news", "w" * 32)]  # fmt: skip
    assert store.pushed_items_since(datetime.now(UTC) + timedelta(minutes=1)) == []
    store.record_push("w" * 32, new=2, duplicates=1, warning="item 3: skipped")
    health = store.source("w" * 32).health  # type: ignore[union-attr]
    assert (health.last_new, health.last_duplicates, health.total_new) == (2, 1, 2)
    assert health.last_warning == "item 3: skipped"


def test_a_concurrently_stored_item_is_not_registered_twice(
    store: ContentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.ensure_project("news")
    store.register_new_items([item(1)])
    calls = {"n": 0}
    real = store.known_item_ids

    def stale_once(ids):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return set() if calls["n"] == 1 else real(ids)  # the other writer's row not yet seen

    monkeypatch.setattr(store, "known_item_ids", stale_once)
    assert store.register_new_items([item(1), item(2)]) == [item(2).id]
    assert calls["n"] == 2


def test_performance_snapshots_and_published_items(store: ContentStore) -> None:
    store.ensure_project("news")
    store.register_new_items([item(1), item(2)])
    for state in (ContentState.PROCESSING, ContentState.READY, ContentState.PUBLISHED):
        store.set_state(item(2).id, state)
    assert store.published_item_ids("news") == [item(2).id]
    sample = PerformanceSample(channel="local", url="file:///v.mp4", published_at=T0, views=5,
                               likes=1, comments=0, shares=0, watch_time_s=12.5,
                               captured_at=T0 + timedelta(days=1))  # fmt: skip
    assert store.record_performance(item(2).id, [sample]) == 1
    assert store.performance(item(2).id) == [sample]
    assert store.performance(item(1).id) == []
