"""``webhook_items_sensor`` through ``build_sensor_context(cursor=…)``: pushed items get
their partitions, and runs when their project auto-generates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pytest

from autoclip_assets.partitions import content_items
from autoclip_core.db.models import Source
from autoclip_core.db.sources import SourceRecord
from autoclip_core.ingest.config import DedupeSettings
from autoclip_core.ingest.webhook import take_in_push
from autoclip_core.schemas import SourceItem
from resources.app_database import AppDatabase
from sensors.webhook import webhook_items_sensor
from tests.fakes.feeds import article_text


class Harness:
    def __init__(self, url: str, instance: dg.DagsterInstance) -> None:
        self.url = url
        self.instance = instance
        self.app_db = AppDatabase(url=self.url)
        self.auto = self.webhook("auto", auto_generate=True)
        self.manual = self.webhook("manual", auto_generate=False)

    def webhook(self, slug: str, *, auto_generate: bool) -> SourceRecord:
        project = self.app_db.projects.ensure(slug, auto_generate=auto_generate)
        source_id = f"{slug[0]}" * 32
        with self.app_db.database.transaction() as s:
            s.add(Source(id=source_id, project_id=project.id, origin="api", kind="webhook",
                         name="CMS", config={}, enabled=True, secret_nonce="n"))  # fmt: skip
        record = self.app_db.sources.record(source_id)
        assert record is not None
        return record

    def push(self, source: SourceRecord, *numbers: int) -> list[str]:
        raws: list[dict[str, Any]] = [
            {"id": f"s{n}", "url": f"https://cms.example.com/{n}", "title": f"Story {n}",
             "text": article_text(n, 150)}
            for n in numbers
        ]  # fmt: skip
        results = take_in_push(
            self.app_db.database, source, raws, dedupe=DedupeSettings(), now=datetime.now(UTC)
        )
        assert all(r.status == "new" for r in results)
        return [r.id for r in results if r.id]

    def evaluate(self, cursor: str | None = None, *, apply: bool = True) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=cursor, resources={"app_db": AppDatabase(url=self.url)}
        )
        result = webhook_items_sensor(context)
        assert isinstance(result, dg.SensorResult)
        if apply:  # what the daemon does with the result
            for request in result.dynamic_partitions_requests or []:
                self.instance.add_dynamic_partitions(
                    request.partitions_def_name, list(request.partition_keys or [])
                )
        return result


@pytest.fixture
def harness(sqlite_app_url: str) -> Iterator[Harness]:
    with dg.instance_for_test() as instance:
        yield Harness(sqlite_app_url, instance)


def test_pushed_items_get_partitions_and_runs_when_their_project_auto_generates(
    harness: Harness,
) -> None:
    auto = harness.push(harness.auto, 1, 2)
    manual = harness.push(harness.manual, 3)
    result = harness.evaluate()
    [add] = result.dynamic_partitions_requests or []
    assert add.partitions_def_name == content_items.name
    assert sorted(add.partition_keys or []) == sorted(auto + manual)
    requests = result.run_requests or []
    assert sorted(r.partition_key or "" for r in requests) == sorted(auto)  # not "manual"'s
    assert all(r.run_key == r.partition_key for r in requests)
    assert {r.tags["autoclip/trigger"] for r in requests} == {"sensor"}  # one run-queue limit
    assert {r.tags["autoclip/source"] for r in requests} == {f"auto/{harness.auto.id}"}
    assert result.cursor

    again = harness.evaluate(result.cursor)
    assert not again.run_requests
    assert not again.dynamic_partitions_requests
    assert again.skip_reason is not None

    later = harness.push(harness.auto, 4)
    third = harness.evaluate(again.cursor)
    [add] = third.dynamic_partitions_requests or []
    assert list(add.partition_keys or []) == later
    assert [r.partition_key for r in third.run_requests or []] == later


def test_a_lost_tick_is_repeated(harness: Harness) -> None:
    pushed = harness.push(harness.auto, 1)
    lost = harness.evaluate(apply=False)  # the daemon never applied it: no cursor, no partition
    assert lost.dynamic_partitions_requests
    retried = harness.evaluate()
    [add] = retried.dynamic_partitions_requests or []
    assert list(add.partition_keys or []) == pushed
    assert [r.partition_key for r in retried.run_requests or []] == pushed


def test_polled_items_are_left_to_the_sources_sensor(harness: Harness) -> None:
    item = SourceItem(id="auto-polled", project="auto", source="feed", url="https://e.com/1",
                      title="Polled", text=article_text(1, 100))  # fmt: skip
    harness.app_db.content.register_new_items([item])
    result = harness.evaluate()
    assert result.skip_reason is not None
    assert "no pushed items" in (result.skip_reason.skip_message or "")
