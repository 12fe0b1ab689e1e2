from __future__ import annotations

from pathlib import Path

import dagster as dg

from autoclip_core.feeds import SAMPLES
from autoclip_core.states import ContentState
from autoclip_core.store import ContentStore
from resources.app_database import AppDatabase
from sensors.feeds import FeedSources, feed_sensor


def evaluate(tmp_path: Path, feeds: list[str]):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'app.db'}"
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance,
            resources={"app_db": AppDatabase(url=url),
                       "feed_sources": FeedSources(feeds=feeds, project="demo")},
        )
        first = feed_sensor(context)
        second = feed_sensor(context)
    return ContentStore(url), first, second


def test_new_feed_items_become_drafts_partitions_and_runs(tmp_path: Path) -> None:
    store, first, second = evaluate(tmp_path, [str(SAMPLES / "sample_feed.rss.xml")])
    assert isinstance(first, dg.SensorResult)
    keys = [r.partition_key for r in first.run_requests]
    assert len(keys) == 5
    assert [r.run_key for r in first.run_requests] == keys
    [add] = first.dynamic_partitions_requests
    assert add.partitions_def_name == "content_items"
    assert list(add.partition_keys) == keys
    assert all(store.status(k).state == ContentState.DRAFT for k in keys)
    assert isinstance(second, dg.SkipReason)  # nothing new the second time


def test_same_articles_in_rss_and_atom_are_registered_once(tmp_path: Path) -> None:
    _, first, _ = evaluate(tmp_path, [str(SAMPLES / "sample_feed.rss.xml"),
                                      str(SAMPLES / "sample_feed.atom.xml")])
    assert len(first.run_requests) == 5


def test_a_broken_feed_does_not_stop_the_others(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<rss><channel><item>")
    _, first, _ = evaluate(tmp_path, [str(broken), str(SAMPLES / "sample_feed.rss.xml")])
    assert len(first.run_requests) == 5
