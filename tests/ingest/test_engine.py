"""One ingestion tick end to end: fake servers → engine → app database (SQLite)."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import autoclip_core.fetch as fetch_module
from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database
from autoclip_core.ingest.config import SourcesConfig, parse_sources_config
from autoclip_core.ingest.engine import IngestEngine, TickOutcome
from autoclip_core.ingest.state import IngestCursor
from tests.fakes.feeds import BILLION_LAUGHS, article_text, rss, rss_feed, rss_item
from tests.fakes.server import FakeServer, Reply, Request, conditional

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(sqlite_app_url: str) -> Iterator[Database]:
    database = Database.open(sqlite_app_url)
    yield database
    database.dispose()


def config(sources: list[dict[str, Any]], **extra: Any) -> SourcesConfig:
    project = {"slug": "news", "auto_generate": True, "sources": sources}
    return parse_sources_config({"projects": [project], **extra})


def tick(
    cfg: SourcesConfig, db: Database, cursor: IngestCursor | None = None, now: datetime = T0
) -> TickOutcome:
    # through JSON, as the sensor stores it
    raw = cursor.dumps() if cursor else None
    return IngestEngine(cfg, db).tick(IngestCursor.loads(raw), now=now)


def report(outcome: TickOutcome, key: str):  # type: ignore[no-untyped-def]
    return next(r for r in outcome.reports if r.key == key)


pytestmark = pytest.mark.usefixtures("allow_loopback")


def test_the_same_story_from_three_sources_is_registered_once(
    fake_server: FakeServer, db: Database
) -> None:
    fake_server.route("/a.xml", Reply(body=rss_feed(5, prefix="a")))
    # the same five texts syndicated under another site's URLs
    fake_server.route("/b.xml", Reply(body=rss_feed(5, prefix="a", host="mirror.example.org")))
    # story a/2 again, from an API, its URL decorated with tracking parameters
    story = {"id": "x", "title": "Same story", "text": "Short teaser, different words.",
             "url": "https://www.news.example.com/a/2/?utm_source=api"}  # fmt: skip
    fake_server.route("/api", Reply(body=f'{{"items": [{__import__("json").dumps(story)}]}}'
                                    .encode()))  # fmt: skip
    cfg = config([
        {"name": "a", "kind": "rss", "url": fake_server.url("/a.xml")},
        {"name": "b", "kind": "rss", "url": fake_server.url("/b.xml")},
        {"name": "api", "kind": "json_api", "url": fake_server.url("/api"),
         "mapping": {"items": "items"}},
    ])  # fmt: skip
    outcome = tick(cfg, db)
    assert len(outcome.new_items) == 5
    assert {n.source for n in outcome.new_items} == {"news/a"}
    assert report(outcome, "news/b").duplicates == 5  # near-duplicate texts
    assert report(outcome, "news/api").duplicates == 1  # same canonical URL
    item = ContentRepository(db).source_item(outcome.new_items[0].item_id)
    assert item.canonical_url == "https://news.example.com/a/0"
    assert item.language == "en"
    assert item.fingerprint is not None


def test_a_failing_source_backs_off_exponentially_and_recovers(
    fake_server: FakeServer, db: Database
) -> None:
    broken = {"ok": False}

    def flaky(request: Request) -> Reply:
        return Reply(body=rss_feed(2, prefix="f", seed=1)) if broken["ok"] else Reply(status=503)

    fake_server.route("/good.xml", Reply(body=rss_feed(2, prefix="g")))
    fake_server.route("/flaky.xml", flaky)
    cfg = config([
        {"name": "good", "kind": "rss", "url": fake_server.url("/good.xml"), "poll_interval": 60},
        {"name": "flaky", "kind": "rss", "url": fake_server.url("/flaky.xml"), "poll_interval": 60},
    ])  # fmt: skip
    first = tick(cfg, db)
    assert len(first.new_items) == 2  # the good source is not held back
    state = first.cursor.sources["news/flaky"]
    assert state.health.consecutive_failures == 1
    assert state.health.last_error is not None
    assert "HTTP 503" in state.health.last_error
    assert state.health.last_checked_at == T0
    assert state.health.next_poll_at == T0 + timedelta(seconds=120)
    second = tick(cfg, db, first.cursor, T0 + timedelta(seconds=60))
    assert [r.key for r in second.reports] == ["news/good"]  # flaky is not due yet
    third = tick(cfg, db, second.cursor, T0 + timedelta(seconds=120))
    assert third.cursor.sources["news/flaky"].health.consecutive_failures == 2
    assert third.cursor.sources["news/flaky"].health.next_poll_at == T0 + timedelta(seconds=360)
    broken["ok"] = True
    fourth = tick(cfg, db, third.cursor, T0 + timedelta(seconds=360))
    recovered = fourth.cursor.sources["news/flaky"]
    health = recovered.health
    assert (health.consecutive_failures, health.last_error, health.last_new) == (0, None, 2)
    assert recovered.health.last_success_at == T0 + timedelta(seconds=360)


def test_retry_after_lengthens_the_back_off(fake_server: FakeServer, db: Database) -> None:
    fake_server.route("/busy.xml", Reply(status=429, headers={"Retry-After": "3600"}))
    cfg = config([{"name": "busy", "kind": "rss", "url": fake_server.url("/busy.xml")}])
    outcome = tick(cfg, db)
    assert outcome.cursor.sources["news/busy"].health.next_poll_at == T0 + timedelta(seconds=3600)


def test_back_off_is_capped(fake_server: FakeServer, db: Database) -> None:
    fake_server.route("/down.xml", Reply(status=500))
    cfg = config(
        [{"name": "down", "kind": "rss", "url": fake_server.url("/down.xml"),
          "poll_interval": 600}],
        limits={"max_backoff_s": 3600},
    )
    cursor, now = None, T0
    for _ in range(6):
        outcome = tick(cfg, db, cursor, now)
        cursor = outcome.cursor
        due = cursor.sources["news/down"].health.next_poll_at
        assert due is not None
        assert due - now <= timedelta(seconds=3600)
        now = due
    assert cursor.sources["news/down"].health.consecutive_failures == 6


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://169.254.169.254/latest/meta-data/", "address not allowed: 169.254.169.254"),
        ("http://[::1]:1/feed", "address not allowed: ::1"),
        ("file:///etc/passwd", "feed file not found"),
    ],
)
def test_refused_sources_show_why(
    db: Database, monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "")
    outcome = tick(config([{"name": "evil", "kind": "rss", "url": url}]), db)
    error = outcome.cursor.sources["news/evil"].health.last_error
    assert error is not None
    assert message in error


def test_a_refused_or_unresolved_source_never_shows_what_our_dns_answered(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source's health is read by its project's users: a name of the internal network
    reads "address not allowed", never the private address it resolved to."""
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "")
    answers = {"intranet.example.com": [ipaddress.ip_address("10.20.30.40")]}

    def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        if host not in answers:
            raise socket.gaierror(-2, "Name or service not known (resolver 10.255.255.53)")
        return list(answers[host])

    monkeypatch.setattr(fetch_module, "_resolve", resolve)
    sources = [
        {"name": "intranet", "kind": "rss", "url": "http://intranet.example.com/feed"},
        {"name": "gone", "kind": "rss", "url": "http://gone.example.com/feed"},
    ]
    health = tick(config(sources), db).cursor.sources
    assert health["news/intranet"].health.last_error == "address not allowed: intranet.example.com"
    assert health["news/gone"].health.last_error == "could not resolve: gone.example.com"
    for state in health.values():
        assert "10." not in (state.health.last_error or "")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (BILLION_LAUGHS, "unsafe XML"),
        (b"<rss><channel><item>", "not well-formed"),
        (b'{"json": "not a feed"}', "not well-formed"),
        (rss_feed(50), "exceeds 4096"),
    ],
)
def test_hostile_or_broken_feeds_register_nothing(
    fake_server: FakeServer, db: Database, body: bytes, message: str
) -> None:
    fake_server.route("/feed.xml", Reply(body=body))
    cfg = config([{"name": "f", "kind": "rss", "url": fake_server.url("/feed.xml")}],
                 limits={"max_feed_bytes": 4096})  # fmt: skip
    outcome = tick(cfg, db)
    assert outcome.new_items == []
    error = outcome.cursor.sources["news/f"].health.last_error
    assert error is not None
    assert message in error


def test_unchanged_feeds_answer_304_and_register_nothing(
    fake_server: FakeServer, db: Database
) -> None:
    fake_server.route("/feed.xml", conditional(rss_feed(3), '"v1"'))
    cfg = config([{"name": "f", "kind": "rss", "url": fake_server.url("/feed.xml"),
                   "poll_interval": 60}])  # fmt: skip
    first = tick(cfg, db)
    assert first.cursor.sources["news/f"].etag == '"v1"'
    second = tick(cfg, db, first.cursor, T0 + timedelta(minutes=1))
    assert report(second, "news/f").status == "not_modified"
    assert second.new_items == []
    assert fake_server.hits("/feed.xml")[1].headers["if-none-match"] == '"v1"'
    assert second.cursor.sources["news/f"].health.next_poll_at == T0 + timedelta(minutes=2)


def _teaser_feed(server: FakeServer, count: int) -> None:
    items = []
    for n in range(count):
        article = (
            f"<html><head><title>A{n}</title></head><body><article><h1>Story {n}</h1>"
            + "".join(f"<p>{p}</p>" for p in article_text(500 + n, 300).split("\n\n"))
            + "</article></body></html>"
        )
        url = server.route(f"/article/{n}", Reply(body=article.encode(),
                           headers={"Content-Type": "text/html"}))  # fmt: skip
        items.append(rss_item(f"t{n}", f"Story {n}", f"Teaser of story {n} …", link=url))
    server.route("/teasers.xml", conditional(rss(items).encode(), '"t1"'))


def test_teasers_get_full_text_only_when_new_and_within_the_per_tick_cap(
    fake_server: FakeServer, db: Database
) -> None:
    _teaser_feed(fake_server, 3)
    cfg = config([{"name": "t", "kind": "rss", "url": fake_server.url("/teasers.xml"),
                   "poll_interval": 900}], limits={"max_enrich_per_source": 2})  # fmt: skip
    first = tick(cfg, db)
    assert len(first.new_items) == 2
    assert report(first, "news/t").held_back == 1
    state = first.cursor.sources["news/t"]
    assert state.etag is None  # not advanced: the held-back item must come again
    assert state.health.next_poll_at == T0 + timedelta(seconds=60)
    text = ContentRepository(db).source_item(first.new_items[0].item_id).text
    assert len(text.split()) >= 250
    second = tick(cfg, db, first.cursor, T0 + timedelta(seconds=60))
    assert len(second.new_items) == 1
    assert second.cursor.sources["news/t"].etag == '"t1"'
    assert [len(fake_server.hits(f"/article/{n}")) for n in range(3)] == [1, 1, 1]


def test_headlines_whose_article_cannot_be_read_are_skipped(
    fake_server: FakeServer, db: Database
) -> None:
    feed = rss([
        "<item><guid>h1</guid><title>Headline only</title>"
        f"<link>{fake_server.url('/missing')}</link></item>",
        rss_item("full", "Full story", article_text(9)),
    ])  # fmt: skip
    fake_server.route("/h.xml", Reply(body=feed.encode()))
    outcome = tick(config([{"name": "h", "kind": "rss", "url": fake_server.url("/h.xml")}]), db)
    assert len(outcome.new_items) == 1
    assert report(outcome, "news/h").skipped == 1
    assert "HTTP 404" in (outcome.cursor.sources["news/h"].health.last_warning or "")


def test_a_slow_source_does_not_hold_up_the_tick(
    fake_server: FakeServer, db: Database
) -> None:
    body = rss_feed(2, prefix="slow")
    fake_server.route("/slow.xml", Reply(body=body, chunk_size=len(body) // 20, chunk_delay=0.2))
    fake_server.route("/fast.xml", Reply(body=rss_feed(2, prefix="fast", seed=1)))
    cfg = config(
        [{"name": "slow", "kind": "rss", "url": fake_server.url("/slow.xml")},
         {"name": "fast", "kind": "rss", "url": fake_server.url("/fast.xml")}],
        limits={"tick_budget_s": 1.0},
    )  # fmt: skip
    started = time.monotonic()
    outcome = tick(cfg, db)
    assert time.monotonic() - started < 2.5
    assert [n.source for n in outcome.new_items] == ["news/fast", "news/fast"]
    assert report(outcome, "news/slow").status == "deferred"
    assert outcome.cursor.sources["news/slow"].health.next_poll_at is None  # still due next tick


def test_one_host_never_gets_more_than_the_per_host_limit(
    fake_server: FakeServer, db: Database
) -> None:
    lock = threading.Lock()
    in_flight = {"now": 0, "max": 0}

    def counted(request: Request) -> Reply:
        with lock:
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
        time.sleep(0.15)
        with lock:
            in_flight["now"] -= 1
        n = int(request.path.strip("/f.xml"))
        return Reply(body=rss_feed(1, prefix=f"f{n}", seed=n))

    sources = []
    for n in range(8):
        fake_server.route(f"/f{n}.xml", counted)
        sources.append({"name": f"s{n}", "kind": "rss", "url": fake_server.url(f"/f{n}.xml")})
    outcome = tick(config(sources, limits={"per_host_concurrency": 2, "max_workers": 8}), db)
    assert len(outcome.new_items) == 8
    assert in_flight["max"] == 2


def test_items_stored_without_a_partition_are_recovered(
    fake_server: FakeServer, db: Database
) -> None:
    fake_server.route("/feed.xml", Reply(body=rss_feed(2)))
    cfg = config([{"name": "f", "kind": "rss", "url": fake_server.url("/feed.xml"),
                   "poll_interval": 60}])  # fmt: skip
    first = tick(cfg, db)  # pretend its SensorResult was lost: no partitions were added
    engine = IngestEngine(cfg, db, existing_partitions=lambda: {first.new_items[0].item_id})
    again = engine.tick(first.cursor, now=T0 + timedelta(minutes=1))
    assert again.new_items == []
    assert [n.item_id for n in again.recovered] == [first.new_items[1].item_id]


def test_sources_removed_from_the_configuration_leave_the_cursor(
    fake_server: FakeServer, db: Database
) -> None:
    fake_server.route("/feed.xml", Reply(body=rss_feed(1)))
    old = config([{"name": "gone", "kind": "rss", "url": fake_server.url("/feed.xml")}])
    cursor = tick(old, db).cursor
    new = config([{"name": "kept", "kind": "rss", "url": fake_server.url("/feed.xml")}])
    assert set(tick(new, db, cursor).cursor.sources) == {"news/kept"}


def test_a_near_duplicate_of_an_earlier_item_is_caught_later(
    fake_server: FakeServer, db: Database
) -> None:
    text = article_text(77, 400)
    fake_server.route("/one.xml", Reply(body=rss([rss_item("o1", "Original", text)]).encode()))
    copy = "Via our partners. " + text.replace("city", "town", 2) + " All rights reserved."
    fake_server.route("/two.xml", Reply(body=rss([
        rss_item("c1", "Copy", copy, link="https://other.example.net/c1")]).encode()))  # fmt: skip
    first = tick(config([{"name": "one", "kind": "rss", "url": fake_server.url("/one.xml")}]), db)
    assert len(first.new_items) == 1
    later = tick(
        config([{"name": "two", "kind": "rss", "url": fake_server.url("/two.xml")}]),
        db,
        now=T0 + timedelta(days=1),
    )
    assert later.new_items == []
    assert report(later, "news/two").duplicates == 1


def test_youtube_and_drop_folder_sources_in_one_tick(
    fake_server: FakeServer, db: Database, tmp_path: Path
) -> None:
    from tests.fakes.youtube import FakeYouTube, Video

    channel = "UC" + "y" * 22
    youtube = FakeYouTube(fake_server, channel, [
        Video("dQw4w9WgXcQ", "Transit video", "Short description.",
              transcript=("en", [f"Caption line {n} about the new subway." for n in range(30)])),
    ])  # fmt: skip
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # the same video pushed again through the drop folder, under a youtu.be link
    (inbox / "push.json").write_text(
        '{"items": [{"id": "p1", "title": "Pushed", "text": "Body.",'
        ' "url": "https://youtu.be/dQw4w9WgXcQ?si=x"},'
        ' {"id": "p2", "title": "Other push", "text": "Another body."}]}'
    )
    cfg = config(
        [{"name": "yt", "kind": "youtube", "channel_id": channel},
         {"name": "inbox", "kind": "drop_folder", "path": str(inbox)}],
        youtube=youtube.endpoints.model_dump(),
    )  # fmt: skip
    outcome = tick(cfg, db)
    items = [ContentRepository(db).source_item(n.item_id) for n in outcome.new_items]
    assert len(items) == 2
    assert "Other push" in {i.title for i in items}
    watch = [i for i in items if i.canonical_url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"]
    assert len(watch) == 1  # the video counts once, whichever source came first
    assert sum(r.duplicates for r in outcome.reports) == 1
    assert (inbox / "processed" / "push.json").exists()


def test_a_youtube_transcript_becomes_the_items_text(
    fake_server: FakeServer, db: Database
) -> None:
    from tests.fakes.youtube import FakeYouTube, Video

    channel = "UC" + "z" * 22
    lines = [f"Caption line {n} about the new subway." for n in range(30)]
    youtube = FakeYouTube(fake_server, channel, [
        Video("dQw4w9WgXcQ", "Transit video", "Short description.", transcript=("en", lines)),
    ])  # fmt: skip
    cfg = config([{"name": "yt", "kind": "youtube", "channel_id": channel}],
                 youtube=youtube.endpoints.model_dump())  # fmt: skip
    [new] = tick(cfg, db).new_items
    video = ContentRepository(db).source_item(new.item_id)
    assert video.text.startswith("Caption line 0 about the new subway.")
    assert video.language == "en"
    assert video.fingerprint is not None
