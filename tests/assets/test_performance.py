"""The daily performance refresh: the ``performance`` asset on a published item (local
channel: real numbers, all zero) and ``performance_schedule`` at 10:00 in each project's
time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster import DagsterEventType

from autoclip_assets.analytics import performance
from autoclip_assets.definitions import ASSETS
from autoclip_assets.partitions import content_items
from autoclip_assets.publishing import publication
from autoclip_core.db.content import ContentRepository
from autoclip_core.schemas import Publication, PublishReceipt, SourceItem
from autoclip_core.states import ContentState
from resources.app_database import AppDatabase
from resources.errors import PublishError
from resources.publisher.base import ChannelAccount, PublisherResource, VideoStats
from resources.publisher.local import LocalChannelPublisher
from schedules.performance import performance_schedule
from sensors.run_status import sync_run
from tests.assets.conftest import Pipeline
from tests.assets.test_publication_channels import publish


@pytest.fixture(scope="module")
def published(pipeline: Pipeline, sample_items: dict[str, SourceItem]) -> str:
    """The English sample published on the local channel by the ``publication`` asset, its
    upstream assets standing in for a rendered item (test_pipeline.py makes a real one)."""
    content_id = pipeline.add(sample_items["en"])
    assert [r.channel for r in publish(pipeline, content_id, {}).receipts] == ["local"]
    _publish(pipeline.app_db.content, content_id)
    return content_id


def refresh_with(
    pipeline: Pipeline, content_id: str, publisher: PublisherResource
) -> dg.ExecuteInProcessResult:
    """``performance`` of ``content_id`` alone, asking ``publisher``."""
    return dg.materialize(
        ASSETS,
        partition_key=content_id,
        instance=pipeline.instance,
        resources={**pipeline.defs.resources, "publisher": publisher},
        selection=[performance.key],
        raise_on_error=False,
    )


def retries(result: dg.ExecuteInProcessResult) -> list[dg.DagsterEvent]:
    return [e for e in result.all_events if e.event_type == DagsterEventType.STEP_UP_FOR_RETRY]


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
    status = pipeline.app_db.content.status(published)
    assert (stats.channel, stats.content_id, stats.url) == (
        "local",
        published,
        status.published_url,
    )
    assert (stats.views, stats.likes, stats.comments, stats.shares, stats.watch_time_s) == (
        0, 0, 0, 0, 0.0)  # fmt: skip
    assert stats.published_at is not None
    [snapshot] = pipeline.app_db.performance.of_content(published)
    assert (snapshot.channel, snapshot.url, snapshot.views) == ("local", status.published_url, 0)
    assert snapshot.published_at == stats.published_at
    [event] = result.get_asset_materialization_events()
    metadata = event.step_materialization_data.materialization.metadata
    assert metadata["views"].value == 0
    assert metadata["channels"].value == "local"

    again = pipeline.run("performance_job", published)  # the job the schedule requests
    assert again.success
    snapshots = pipeline.app_db.performance.of_content(published)
    assert len(snapshots) == 2  # a time series, one per refresh
    run = pipeline.instance.get_run_by_id(again.run_id)
    assert run is not None
    sync_run(pipeline.app_db.database, pipeline.instance, run, dg.DagsterRunStatus.SUCCESS)
    assert pipeline.app_db.content.status(published).state == ContentState.PUBLISHED  # untouched
    jobs = pipeline.app_db.jobs.of_content(published)
    assert "performance_job" not in {job for _, job, _, _ in jobs}


def test_a_video_missing_from_its_channel_fails_at_once_without_retries(
    pipeline: Pipeline, published: str, tmp_path: Path
) -> None:
    empty = LocalChannelPublisher(root=str(tmp_path / "no-channels"))
    result = refresh_with(pipeline, published, empty)
    assert not result.success
    assert not retries(result)
    [failure] = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert "is not published on the local channel 'local'" in str(failure.event_specific_data)


def test_each_channel_keeps_its_receipt_through_to_performance(
    pipeline: Pipeline, published: str
) -> None:
    """A route to two channels publishes twice; performance asks each channel with its own
    receipt and gets that channel's URL back."""
    resources = pipeline.defs.resources

    def stored(asset: str) -> Any:
        return pipeline.defs.load_asset_value(
            asset, partition_key=published, instance=pipeline.instance
        )

    route = stored("topic_selection").model_copy(update={"channels": ["local", "archive"]})
    context = dg.build_asset_context(partition_key=published, instance=pipeline.instance)
    [output] = publication(
        context,
        video=stored("video"),
        script=stored("script"),
        topic_selection=route,
        publisher=resources["publisher"],
        accounts=resources["accounts"],
        storage=resources["storage"],
        app_db=resources["app_db"],
    )
    made: Publication = output.value
    assert [r.channel for r in made.receipts] == ["local", "archive"]
    assert all(isinstance(r, PublishReceipt) for r in made.receipts)
    assert made.receipts[0].url != made.receipts[1].url
    status = pipeline.app_db.content.status(published)
    assert made.url == made.receipts[0].url == status.published_url

    stats = performance(
        dg.build_asset_context(partition_key=published, instance=pipeline.instance),
        publication=made,
        publisher=resources["publisher"],
        accounts=resources["accounts"],
        app_db=resources["app_db"],
    )
    assert [(s.channel, s.url) for s in stats] == [(r.channel, r.url) for r in made.receipts]


def test_a_channel_that_asks_to_wait_is_asked_again_after_its_retry_after(
    pipeline: Pipeline, published: str
) -> None:
    asked: list[str] = []

    class Busy(LocalChannelPublisher):
        """Answers 429 Retry-After: 0.05 once, like a rate-limited channel API."""

        def video_stats(
            self, content_id: str, receipt: PublishReceipt, account: ChannelAccount
        ) -> VideoStats:
            asked.append(receipt.channel)
            if len(asked) == 1:
                raise PublishError("429 Too Many Requests", retryable=True, retry_after=0.05)
            return super().video_stats(content_id, receipt, account)

    result = refresh_with(pipeline, published, Busy(root=str(pipeline.settings.root / "channels")))
    assert result.success
    [retry] = retries(result)
    assert retry.event_specific_data.seconds_to_wait == 0.05
    assert asked == ["local", "local"]


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


def _publish(store: ContentRepository, content_id: str) -> None:
    for state in (ContentState.PROCESSING, ContentState.READY, ContentState.PUBLISHED):
        store.set_state(content_id, state)


def _evaluate(url: str, instance: dg.DagsterInstance, at: datetime):  # type: ignore[no-untyped-def]
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=at, resources={"app_db": AppDatabase(url=url)}
    )
    return performance_schedule(context)


def test_the_schedule_refreshes_each_projects_published_items_at_10_local(
    sqlite_app_url: str,
) -> None:
    url = sqlite_app_url
    app_db = AppDatabase(url=url)
    app_db.projects.ensure("seoul", timezone="Asia/Seoul")
    app_db.projects.ensure("london", timezone="Europe/London")
    store = app_db.content
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
    app_db.database.dispose()


def test_the_schedule_is_hourly_and_runs_the_performance_job() -> None:
    assert performance_schedule.cron_schedule == "0 * * * *"
    assert performance_schedule.execution_timezone == "UTC"
    assert performance_schedule.job_name == "performance_job"
    assert performance_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
