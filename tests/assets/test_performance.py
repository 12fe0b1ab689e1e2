"""The daily performance refresh: the ``performance`` asset on a published item (local
channel: real numbers, all zero) and ``performance_schedule`` at 10:00 in each project's
time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster import DagsterEventType

from autoclip_assets.analytics import performance
from autoclip_assets.definitions import ASSETS
from autoclip_assets.partitions import content_items
from autoclip_core.schemas import SourceItem
from autoclip_core.states import ContentState
from autoclip_core.store import ContentStore
from resources.app_database import AppDatabase
from resources.publisher.base import VideoStats
from resources.publisher.local import LocalChannelPublisher
from schedules.performance import performance_schedule
from sensors.run_status import sync_run
from tests.assets.conftest import Pipeline


@pytest.fixture(scope="module")
def published(pipeline: Pipeline, sample_items: dict[str, SourceItem]) -> str:
    """The English sample, generated and published on the local channel."""
    content_id = pipeline.add(sample_items["en"])
    result = pipeline.run("content_job", content_id)
    assert result.success
    run = pipeline.instance.get_run_by_id(result.run_id)
    assert run is not None
    sync_run(pipeline.store, pipeline.instance, run, dg.DagsterRunStatus.SUCCESS)
    assert pipeline.store.status(content_id).state == ContentState.PUBLISHED
    return content_id


def test_performance_of_a_published_item_is_read_from_its_channel_and_stored(
    pipeline: Pipeline, published: str
) -> None:
    result = dg.materialize(
        ASSETS,
        partition_key=published,
        instance=pipeline.instance,
        resources=pipeline.defs.resources,
        selection=[performance.key],
    )
    assert result.success
    [stats] = result.output_for_node("performance")
    assert isinstance(stats, VideoStats)
    status = pipeline.store.status(published)
    assert (stats.channel, stats.content_id, stats.url) == (
        "local",
        published,
        status.published_url,
    )
    assert (stats.views, stats.likes, stats.comments, stats.shares, stats.watch_time_s) == (
        0, 0, 0, 0, 0.0)  # fmt: skip
    assert stats.published_at is not None
    [snapshot] = pipeline.store.performance(published)
    assert (snapshot.channel, snapshot.url, snapshot.views) == ("local", status.published_url, 0)
    assert snapshot.published_at == stats.published_at
    [event] = result.get_asset_materialization_events()
    metadata = event.step_materialization_data.materialization.metadata
    assert metadata["views"].value == 0
    assert metadata["channels"].value == "local"

    again = pipeline.run("performance_job", published)  # the job the schedule requests
    assert again.success
    assert len(pipeline.store.performance(published)) == 2  # a time series, one per refresh
    run = pipeline.instance.get_run_by_id(again.run_id)
    assert run is not None
    sync_run(pipeline.store, pipeline.instance, run, dg.DagsterRunStatus.SUCCESS)
    assert pipeline.store.status(published).state == ContentState.PUBLISHED  # untouched
    assert "performance_job" not in {job for _, job, _, _ in pipeline.store.jobs(published)}


def test_a_video_missing_from_its_channel_fails_at_once_without_retries(
    pipeline: Pipeline, published: str, tmp_path: Path
) -> None:
    empty = LocalChannelPublisher(root=str(tmp_path / "no-channels"))
    result = dg.materialize(
        ASSETS,
        partition_key=published,
        instance=pipeline.instance,
        resources={**pipeline.defs.resources, "publisher": empty},
        selection=[performance.key],
        raise_on_error=False,
    )
    assert not result.success
    assert not [e for e in result.all_events if e.event_type == DagsterEventType.STEP_UP_FOR_RETRY]
    [failure] = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert "is not published on the local channel 'local'" in str(failure.event_specific_data)


def test_definitions_carry_the_performance_job_schedule_and_webhook_sensor(
    pipeline: Pipeline,
) -> None:
    defs = pipeline.defs
    assert defs.resolve_job_def("performance_job").partitions_def == content_items
    assert defs.resolve_schedule_def("performance_schedule").job_name == "performance_job"
    assert defs.resolve_sensor_def("webhook_items_sensor").job_name == "content_job"
    content = defs.resolve_job_def("content_job")
    assert "performance" not in {n.name for n in content.graph.node_defs}  # daily, not per run


# the schedule -------------------------------------------------------------------------------


def _item(project: str, n: int) -> SourceItem:
    url = f"https://e.com/{project}/{n}"
    return SourceItem(
        id=f"{project}-{n:04d}", project=project, source="feed", url=url, title="A", text="B"
    )


def _publish(store: ContentStore, content_id: str) -> None:
    for state in (ContentState.PROCESSING, ContentState.READY, ContentState.PUBLISHED):
        store.set_state(content_id, state)


def _evaluate(url: str, instance: dg.DagsterInstance, at: datetime):  # type: ignore[no-untyped-def]
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=at, resources={"app_db": AppDatabase(url=url)}
    )
    return performance_schedule(context)


def test_the_schedule_refreshes_each_projects_published_items_at_10_local(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    store = ContentStore(url)
    store.migrate()
    store.ensure_project("seoul", timezone="Asia/Seoul")
    store.ensure_project("london", timezone="Europe/London")
    items = [_item("seoul", n) for n in range(4)] + [_item("london", 1)]
    store.register_new_items(items)
    for item in (items[0], items[1], items[2], items[4]):
        _publish(store, item.id)  # items[3] stays a draft
    with dg.instance_for_test() as instance:
        # items[2] is published but has no partition here: it cannot be requested
        instance.add_dynamic_partitions(content_items.name, [i.id for i in items if i != items[2]])
        at_10_in_seoul = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
        requests = _evaluate(url, instance, at_10_in_seoul)
        assert isinstance(requests, list)
        assert [r.partition_key for r in requests] == [items[0].id, items[1].id]
        assert requests[0].run_key == f"performance:{items[0].id}:2026-03-02"
        assert requests[0].tags == {"autoclip/trigger": "performance", "autoclip/project": "seoul"}

        at_10_in_london = datetime(2026, 7, 2, 9, 0, tzinfo=UTC)  # summer time: UTC+1
        [london] = _evaluate(url, instance, at_10_in_london)
        assert london.partition_key == items[4].id

        skipped = _evaluate(url, instance, datetime(2026, 3, 2, 5, 0, tzinfo=UTC))
        assert isinstance(skipped, dg.SkipReason)
        assert "no project" in (skipped.skip_message or "")
    store.engine.dispose()


def test_the_schedule_is_hourly_and_runs_the_performance_job() -> None:
    assert performance_schedule.cron_schedule == "0 * * * *"
    assert performance_schedule.execution_timezone == "UTC"
    assert performance_schedule.job_name == "performance_job"
    assert performance_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
