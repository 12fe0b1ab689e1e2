"""The sources table as ingestion sees it (``catalog``) and the shared intake (``intake``,
``webhook``): one judgement for polled and pushed items."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database
from autoclip_core.db.models import Source
from autoclip_core.db.projects import ProjectRepository
from autoclip_core.db.sources import SourceRecord, SourceRepository, file_source_id
from autoclip_core.ingest.catalog import load_catalog
from autoclip_core.ingest.config import DedupeSettings, parse_sources_config, source_key
from autoclip_core.ingest.intake import take_in
from autoclip_core.ingest.webhook import take_in_push
from autoclip_core.schemas import SourceItem
from tests.fakes.feeds import article_text

NOW = datetime.now(UTC)


@pytest.fixture
def db(sqlite_app_url: str) -> Iterator[Database]:
    database = Database.open(sqlite_app_url)
    yield database
    database.dispose()


def add_source(db: Database, slug: str, source_id: str, kind: str, **row: Any) -> None:
    project = ProjectRepository(db).ensure(slug, timezone="Asia/Seoul", auto_generate=True)
    with db.transaction() as s:
        s.add(Source(id=source_id, project_id=project.id, origin="api", kind=kind, name=kind,
                     enabled=True, **{"config": {}, **row}))  # fmt: skip


def test_file_and_api_sources_are_one_catalog(db: Database) -> None:
    config = parse_sources_config({"projects": [{"slug": "news", "sources": [
        {"name": "wire", "kind": "rss", "url": "https://feeds.example.com/rss"},
        {"name": "inbox", "kind": "drop_folder", "path": "/srv/inbox", "enabled": False},
    ]}]})  # fmt: skip
    add_source(db, "api-news", "a" * 32, "atom", url="https://atom.example.com/feed",
               poll_interval_s=300.0)  # fmt: skip
    add_source(db, "api-news", "b" * 32, "youtube", config={"channel_id": "UC" + "c" * 22})
    add_source(db, "api-news", "w" * 32, "webhook", secret_nonce="n")  # pushed, not polled
    add_source(db, "api-news", "x" * 32, "rss", url="file:///etc/passwd")
    add_source(db, "api-news", "y" * 32, "rss", url="https://e.com/rss", poll_interval_s=1.0)
    catalog = load_catalog(config, db)

    wire = catalog.sources[source_key("news", "wire")]
    assert (wire.source_id, wire.row_id) == ("wire", file_source_id("news", "wire"))
    atom = catalog.sources[source_key("api-news", "a" * 32)]
    assert (atom.source_id, atom.row_id) == ("a" * 32, "a" * 32)
    assert source_key("api-news", "w" * 32) not in catalog.sources
    assert catalog.problems == [
        f"api-news/{'x' * 32}: not polled: url must be an http(s) URL with a host",
        f"api-news/{'y' * 32}: not polled: poll_interval: Value error, poll_interval must be "
        "within 60 seconds and 7 days",
    ]
    assert (atom.project.timezone, atom.project.auto_generate) == ("Asia/Seoul", True)
    assert (atom.spec.kind, atom.spec.poll_interval) == ("atom", 300.0)
    youtube = catalog.sources[source_key("api-news", "b" * 32)]
    assert youtube.spec.kind == "youtube"
    assert youtube.project is atom.project
    file_rows = {r.spec.name: r for r in SourceRepository(db).records(origin="file") if r.spec}
    assert set(file_rows) == {"wire", "inbox"}
    assert file_rows["inbox"].spec == config.projects[0].sources[1]
    assert file_rows["wire"].id == wire.row_id


def story(n: int, **extra: Any) -> SourceItem:
    values: dict[str, Any] = {
        "id": f"news-{n}", "project": "news", "source": "feed", "url": f"https://e.com/{n}",
        "title": f"Story {n}", "text": article_text(n, 150), **extra,
    }  # fmt: skip
    return SourceItem(**values)


def test_take_in_judges_a_batch_against_the_project_and_itself(db: Database) -> None:
    ProjectRepository(db).ensure("news")
    ContentRepository(db).register_new_items([story(1)])
    verdicts = take_in(db, "news", [
        story(1),  # stored before
        story(2),
        story(3, url="https://www.e.com/2/?utm_source=x"),  # same page as 2
        story(4, title=" ", text="\u200b \ufeff"),  # nothing left once cleaned
    ], dedupe=DedupeSettings(), now=NOW)  # fmt: skip
    assert [v.status for v in verdicts] == ["duplicate", "new", "duplicate", "skipped"]
    assert verdicts[2].duplicate_of == "news-2"
    assert verdicts[1].item.canonical_url == "https://e.com/2"
    assert ContentRepository(db).known_item_ids(["news-2", "news-3", "news-4"]) == {"news-2"}


def test_a_push_is_taken_in_like_a_json_api_item_and_recorded_on_its_source(
    db: Database,
) -> None:
    add_source(db, "news", "w" * 32, "webhook", secret_nonce="n")
    record: SourceRecord | None = SourceRepository(db).record("w" * 32)
    assert record is not None
    raws = [
        {"id": "a", "url": "https://cms.example.com/a", "title": "<b>A</b>",
         "text": article_text(1, 150), "media": ["https://img.example.com/a.jpg", "javascript:x"],
         "published": "2026-01-01T00:00:00Z", "language": "EN"},
        {"url": "https://cms.example.com/b", "title": "B", "text": article_text(2, 150)},
        {"id": "c", "url": "https://cms.example.com/c", "title": "<i></i>", "text": "<br>"},
    ]  # fmt: skip
    results = take_in_push(db, record, raws, dedupe=DedupeSettings(), now=NOW)
    assert [(r.index, r.status) for r in results] == [(0, "new"), (1, "new"), (2, "skipped")]
    a = ContentRepository(db).source_item(results[0].id or "")
    assert (a.title, a.source, a.language) == ("A", f"webhook:{'w' * 32}", "en")
    assert a.media_links == ["https://img.example.com/a.jpg"]
    again = take_in_push(db, record, raws[:2], dedupe=DedupeSettings(), now=NOW)
    assert [r.status for r in again] == ["duplicate", "duplicate"]
    assert [r.id for r in again] == [r.id for r in results[:2]]  # stable ids
    health = SourceRepository(db).record("w" * 32).health  # type: ignore[union-attr]
    assert (health.last_new, health.last_duplicates, health.total_new) == (0, 2, 2)
