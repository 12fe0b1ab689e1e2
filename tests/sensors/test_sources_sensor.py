"""``sources_sensor`` through ``build_sensor_context(cursor=…)``: run requests, partition
requests and cursors; feeds, APIs and errors served from a local fake server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from autoclip_assets.jobs import content_job
from autoclip_core.db.models import Source
from autoclip_core.db.sources import SourceRecord
from autoclip_core.feeds import SAMPLES
from autoclip_core.ingest.config import SourcesConfig, parse_sources_config
from autoclip_core.states import ContentState
from resources.app_database import AppDatabase
from schedules.daily_batch import daily_batch_schedule
from sensors.sources import FeedSources, build_sources_sensor
from tests.fakes.feeds import rss_feed
from tests.fakes.server import FakeServer, Reply, conditional


class Harness:
    def __init__(self, url: str, instance: dg.DagsterInstance) -> None:
        self.url = url
        self.instance = instance
        self.app_db = AppDatabase(url=self.url)

    def source(self, project: str, name: str) -> SourceRecord:
        """A source's row (its spec and health) in the ``sources`` table."""
        records = self.app_db.sources.records(project=project)
        [record] = [r for r in records if r.spec is not None and r.spec.name == name]
        return record

    def make_due(self, record: SourceRecord) -> None:
        past = datetime(2000, 1, 1, tzinfo=UTC)
        due = record.health.model_copy(update={"next_poll_at": past})
        self.app_db.sources.save_health({record.id: due})

    def evaluate(
        self,
        config: SourcesConfig | None = None,
        *,
        feeds: list[str] | None = None,
        cursor: str | None = None,
    ) -> dg.SensorResult:
        sensor = build_sources_sensor(config or SourcesConfig())
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=cursor,
            resources={
                "app_db": AppDatabase(url=self.url),
                "feed_sources": FeedSources(feeds=feeds or [], project="demo"),
            },
        )
        result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        for request in result.dynamic_partitions_requests or []:  # what the daemon would do
            self.instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys or [])
            )
        return result


@pytest.fixture
def harness(sqlite_app_url: str) -> Iterator[Harness]:
    with dg.instance_for_test() as instance:
        yield Harness(sqlite_app_url, instance)


def rss_project(urls: dict[str, str], **project: Any) -> SourcesConfig:
    sources = [{"name": k, "kind": "rss", "url": v, "poll_interval": 60} for k, v in urls.items()]
    return parse_sources_config(
        {"projects": [{"slug": "news", "auto_generate": True, **project, "sources": sources}]}
    )


def test_new_feed_items_become_drafts_partitions_and_runs(harness: Harness) -> None:
    first = harness.evaluate(feeds=[str(SAMPLES / "sample_feed.rss.xml")])
    keys = [r.partition_key for r in first.run_requests or []]
    assert len(keys) == 5
    assert [r.run_key for r in first.run_requests or []] == keys
    assert first.run_requests[0].tags["autoclip/trigger"] == "sensor"  # type: ignore[index]
    [add] = first.dynamic_partitions_requests or []
    assert add.partitions_def_name == "content_items"
    assert list(add.partition_keys or []) == keys
    assert all(harness.app_db.content.status(k).state == ContentState.DRAFT for k in keys)
    [record] = harness.app_db.sources.records(project="demo")
    assert record.spec is not None
    assert (record.origin, record.spec.kind) == ("file", "rss")
    assert record.spec.name.startswith("feed-")
    assert record.health.last_new == 5
    assert record.health.next_poll_at is not None
    again = harness.evaluate(feeds=[str(SAMPLES / "sample_feed.rss.xml")], cursor=first.cursor)
    assert not again.run_requests  # not due yet, and nothing new anyway
    assert again.skip_reason is not None


def test_same_articles_in_rss_and_atom_are_registered_once(harness: Harness) -> None:
    result = harness.evaluate(
        feeds=[str(SAMPLES / "sample_feed.rss.xml"), str(SAMPLES / "sample_feed.atom.xml")]
    )
    assert len(result.run_requests or []) == 5


@pytest.mark.usefixtures("allow_loopback")
def test_a_broken_source_keeps_its_error_in_the_cursor_without_stopping_others(
    harness: Harness, fake_server: FakeServer
) -> None:
    config = rss_project({
        "broken": fake_server.route("/broken.xml", Reply(body=b"<rss><channel><item>")),
        "down": fake_server.route("/down.xml", Reply(status=502)),
        "good": fake_server.route("/good.xml", Reply(body=rss_feed(3))),
    })  # fmt: skip
    result = harness.evaluate(config)
    assert len(result.run_requests or []) == 3
    broken, down, good = (harness.source("news", n).health for n in ("broken", "down", "good"))
    assert "not well-formed" in (broken.last_error or "")
    assert "HTTP 502" in (down.last_error or "")
    assert down.consecutive_failures == 1
    assert down.next_poll_at is not None
    assert good.next_poll_at is not None
    assert down.next_poll_at > good.next_poll_at
    assert good.last_error is None
    assert json.loads(result.cursor or "")["sources"] == {}  # no ETags: nothing to keep


@pytest.mark.usefixtures("allow_loopback")
def test_an_unchanged_feed_is_a_cheap_skip(harness: Harness, fake_server: FakeServer) -> None:
    config = rss_project({"f": fake_server.route("/f.xml", conditional(rss_feed(2), '"1"'))})
    first = harness.evaluate(config)
    assert json.loads(first.cursor or "")["sources"] == {"news/f": {"etag": '"1"'}}
    harness.make_due(harness.source("news", "f"))
    second = harness.evaluate(config, cursor=first.cursor)
    assert not second.run_requests
    assert "1 sources polled, 0 failed" in (second.skip_reason.skip_message or "")  # type: ignore[union-attr]
    assert fake_server.hits("/f.xml")[1].headers["if-none-match"] == '"1"'


@pytest.mark.usefixtures("allow_loopback")
def test_projects_without_auto_generate_get_partitions_and_drafts_but_no_runs(
    harness: Harness, fake_server: FakeServer
) -> None:
    config = rss_project({"f": fake_server.route("/f.xml", Reply(body=rss_feed(4)))},
                         auto_generate=False)  # fmt: skip
    result = harness.evaluate(config)
    assert result.run_requests == []
    [add] = result.dynamic_partitions_requests or []
    assert len(add.partition_keys or []) == 4


@pytest.mark.usefixtures("allow_loopback")
def test_a_burst_of_500_items_is_requested_in_one_tick_and_left_to_the_run_queue(
    harness: Harness, fake_server: FakeServer
) -> None:
    feed = Reply(body=rss_feed(500, words=120))  # full texts: nothing to fetch per item
    config = rss_project({"burst": fake_server.route("/burst.xml", feed)})
    result = harness.evaluate(config)
    requests = result.run_requests or []
    assert len(requests) == 500
    assert len({r.run_key for r in requests}) == 500
    assert all(r.tags["autoclip/trigger"] == "sensor" for r in requests)  # limited in dagster.yaml


def test_a_corrupt_cursor_starts_afresh(harness: Harness) -> None:
    result = harness.evaluate(feeds=[str(SAMPLES / "sample_feed.rss.xml")], cursor="{not json")
    assert len(result.run_requests or []) == 5


def test_without_sources_the_sensor_skips(harness: Harness) -> None:
    result = harness.evaluate()
    assert result.skip_reason is not None
    assert "no sources configured" in (result.skip_reason.skip_message or "")


def test_sensor_and_schedules_load_in_definitions_with_their_resources(tmp_path: Path) -> None:
    config = parse_sources_config({"projects": [
        {"slug": "ko", "timezone": "Asia/Seoul", "daily_batch": {"time": "09:00"},
         "sources": [{"name": "f", "kind": "rss", "url": "https://feeds.example.com/rss"}]},
    ]})  # fmt: skip
    defs = dg.Definitions(
        jobs=[content_job],
        sensors=[build_sources_sensor(config)],
        schedules=[daily_batch_schedule],
        resources={
            "app_db": AppDatabase(url=f"sqlite:///{tmp_path / 'app.db'}"),
            "feed_sources": FeedSources(),
        },
    )
    with dg.instance_for_test():  # Dagster keeps a global ref to the last test instance
        dg.Definitions.validate_loadable(defs)
    assert defs.resolve_sensor_def("sources_sensor").job_name == "content_job"
    assert defs.resolve_schedule_def("daily_batch_schedule").job_name == "content_job"


@pytest.mark.usefixtures("allow_loopback")
def test_polled_sources_created_through_the_api_are_polled_from_the_table(
    harness: Harness, fake_server: FakeServer
) -> None:
    sources = harness.app_db.sources
    project = harness.app_db.projects.ensure(
        "api-project", auto_generate=True, timezone="Asia/Seoul"
    )
    feed = fake_server.route("/api.xml", conditional(rss_feed(3), '"a"'))
    with harness.app_db.database.transaction() as s:
        s.add(Source(id="a" * 32, project_id=project.id, origin="api", kind="atom",
                     name="Wire", url=feed, config={"full_text": "never"}, poll_interval_s=60.0,
                     enabled=True))  # fmt: skip
        s.add(Source(id="b" * 32, project_id=project.id, origin="api", kind="webhook",
                     name="CMS", config={}, enabled=True, secret_nonce="n"))  # fmt: skip
        s.add(Source(id="c" * 32, project_id=project.id, origin="api", kind="rss",
                     name="Broken row", url=feed, config={"mapping": 1},
                     poll_interval_s=60.0, enabled=True))  # fmt: skip
        s.add(Source(id="d" * 32, project_id=project.id, origin="api", kind="rss",
                     name="A server file", url=str(SAMPLES / "sample_feed.rss.xml"), config={},
                     poll_interval_s=60.0, enabled=True))  # fmt: skip
    result = harness.evaluate()
    requests = result.run_requests or []
    assert len(requests) == 3
    assert {r.tags["autoclip/source"] for r in requests} == {f"api-project/{'a' * 32}"}
    wire = sources.record("a" * 32)
    assert wire is not None
    assert wire.health.last_new == 3
    assert sources.record("b" * 32).health.last_checked_at is None  # type: ignore[union-attr]
    for left_out in ("c" * 32, "d" * 32):  # an invalid row; a local path: never polled
        assert sources.record(left_out).health.last_checked_at is None  # type: ignore[union-attr]
    positions = json.loads(result.cursor or "")["sources"]
    assert positions == {f"api-project/{'a' * 32}": {"etag": '"a"'}}


def test_sources_removed_from_the_file_leave_the_table(harness: Harness) -> None:
    sample = str(SAMPLES / "sample_feed.rss.xml")
    both = parse_sources_config({"projects": [{"slug": "news", "sources": [
        {"name": "one", "kind": "rss", "url": sample},
        {"name": "two", "kind": "rss", "url": sample},
    ]}]})  # fmt: skip
    harness.evaluate(both)
    names = [r.spec.name for r in harness.app_db.sources.records(project="news") if r.spec]
    assert names == ["one", "two"]
    one = parse_sources_config(
        {"projects": [{"slug": "news", "sources": [{"name": "one", "kind": "rss", "url": sample}]}]}
    )
    harness.evaluate(one)
    [row] = harness.app_db.sources.records(project="news")
    assert row.spec is not None
    assert row.spec.name == "one"
