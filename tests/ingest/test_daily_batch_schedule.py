"""The daily batch schedule, evaluated against a test instance (``dg.instance_for_test``),
for projects of the sources file (mirrored into the app database like their sources)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from autoclip_assets.partitions import content_items
from autoclip_core.db.engine import Database
from autoclip_core.db.projects import ProjectRepository, ProjectSettings
from autoclip_core.ingest.catalog import load_catalog
from autoclip_core.ingest.config import DailyBatch, SourcesConfig, parse_sources_config
from autoclip_core.schemas import SourceItem
from autoclip_core.states import ContentState
from resources.app_database import AppDatabase
from schedules.daily_batch import batch_due, daily_batch_schedule
from tests.fakes.feeds import article_text

SEOUL = ZoneInfo("Asia/Seoul")
AT = datetime(2026, 5, 4, 9, 0, tzinfo=SEOUL)
"""The batch time of ``news-ko``."""
CONFIG = parse_sources_config({"projects": [
    {"slug": "news-ko", "timezone": "Asia/Seoul", "daily_batch": {"time": "09:00", "count": 2},
     "topic_weights": {"subway": 1.0}, "review_required": True, "channels": ["local", "web"],
     "template_id": "square", "blocked_terms": ["casino"]},
    {"slug": "no-batch"},
]})  # fmt: skip


def item(n: int, text: str, hours_old: float = 2) -> SourceItem:
    return SourceItem(
        id=f"news-ko-{n:012d}", project="news-ko", source="feed", url=f"https://e.kr/{n}",
        title=f"Story {n}", text=text, published_at=AT - timedelta(hours=hours_old),
    )  # fmt: skip


def mirrored(url: str, config: SourcesConfig = CONFIG) -> None:
    """What every tick of the sources sensor does first: the file's projects into the table."""
    database = Database.open(url)
    load_catalog(config, database)
    database.dispose()


def evaluate(url: str, items: list[SourceItem], *, partitions: list[str] | None = None,
             published: list[str] = (), processing: list[str] = (),
             at: datetime = AT):  # type: ignore[no-untyped-def]  # fmt: skip
    """The schedule's tick over the SQLite app database at ``url`` (migrated)."""
    mirrored(url)
    store = AppDatabase(url=url).content
    store.register_new_items(items)
    for content_id in processing:
        store.set_state(content_id, ContentState.PROCESSING)
    for content_id in published:
        for state in (ContentState.PROCESSING, ContentState.READY, ContentState.PUBLISHED):
            store.set_state(content_id, state)
    with dg.instance_for_test() as instance:
        keys = [i.id for i in items] if partitions is None else partitions
        instance.add_dynamic_partitions(content_items.name, keys)
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=at,
            resources={"app_db": AppDatabase(url=url)},
        )
        return daily_batch_schedule(context)


def test_one_schedule_serves_every_project() -> None:
    assert daily_batch_schedule.name == "daily_batch_schedule"
    assert daily_batch_schedule.cron_schedule == "*/5 * * * *"
    assert daily_batch_schedule.job_name == "content_job"
    assert daily_batch_schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_file_projects_settings_are_mirrored(sqlite_app_url: str) -> None:
    url = sqlite_app_url
    mirrored(url)
    database = Database.open(url)
    projects = ProjectRepository(database)
    news = projects.ensure("news-ko")
    assert news.daily_batch == DailyBatch(time="09:00", count=2)
    assert (news.timezone, dict(news.topic_weights)) == ("Asia/Seoul", {"subway": 1.0})
    assert (news.review_required, news.channels, news.template_id, news.blocked_terms) == (
        True, ("local", "web"), "square", ("casino",))  # fmt: skip
    assert projects.ensure("no-batch").daily_batch is None
    without = parse_sources_config({"projects": [{"slug": "news-ko"}]})
    mirrored(url, without)  # the file is the definition: a removed batch is gone
    news = projects.ensure("news-ko")
    assert (news.daily_batch, news.review_required, news.timezone) == (None, False, "UTC")
    database.dispose()


def test_the_top_n_drafts_of_the_day_are_generated(sqlite_app_url: str) -> None:
    told = article_text(40, 400)
    items = [
        item(1, article_text(1, 400) + " New subway line.", hours_old=1),  # fresh, on topic
        item(2, article_text(2, 400), hours_old=6),  # older, off topic
        item(3, told, hours_old=1),  # same as a published story (below)
        item(4, article_text(4, 400), hours_old=1),  # fine, but no partition
        item(5, article_text(5, 400), hours_old=1),  # already processing
        item(6, told + " More.", hours_old=1),  # the published one
        item(7, "Tiny.", hours_old=1),
    ]
    partitions = [i.id for i in items if i.id != item(4, "").id]
    requests = evaluate(sqlite_app_url, items, partitions=partitions,
                        published=[item(6, "").id], processing=[item(5, "").id])  # fmt: skip
    assert isinstance(requests, list)
    assert [r.partition_key for r in requests] == [item(1, "").id, item(2, "").id]
    assert requests[0].run_key == f"daily:{item(1, '').id}"
    assert requests[0].tags["autoclip/trigger"] == "daily_batch"
    assert requests[0].tags["autoclip/project"] == "news-ko"
    assert float(requests[0].tags["autoclip/score"]) > float(requests[1].tags["autoclip/score"])


def test_a_day_without_drafts_is_skipped(sqlite_app_url: str) -> None:
    result = evaluate(sqlite_app_url, [])
    assert isinstance(result, dg.SkipReason)
    assert "no draft items" in (result.skip_message or "")


def test_outside_the_batch_time_nothing_is_requested(sqlite_app_url: str) -> None:
    items = [item(1, article_text(1, 400))]
    result = evaluate(sqlite_app_url, items, at=AT - timedelta(minutes=5))
    assert isinstance(result, dg.SkipReason)
    assert "no project's daily batch is due" in (result.skip_message or "")


@pytest.mark.parametrize(
    ("batch", "now", "due"),
    [
        (DailyBatch(time="09:00"), AT, True),
        (DailyBatch(time="09:00"), AT + timedelta(minutes=4), True),
        (DailyBatch(time="09:00"), AT + timedelta(minutes=5), False),  # the next tick's span
        (DailyBatch(time="09:00"), AT - timedelta(seconds=1), False),
        (DailyBatch(time="23:58"), datetime(2026, 5, 5, 0, 2, tzinfo=SEOUL), True),  # midnight
        (DailyBatch(time="09:00", timezone="UTC"), AT, False),  # the batch's own zone wins
        (DailyBatch(time="00:00", timezone="UTC"), AT, True),  # 09:00 Seoul is 00:00 UTC
    ],
)
def test_a_batch_is_due_in_exactly_one_tick(batch: DailyBatch, now: datetime, due: bool) -> None:
    project = ProjectSettings("p", "p", False, (), "short", ("local",), "Asia/Seoul",
                              daily_batch=batch)  # fmt: skip
    assert batch_due(project, now.astimezone(UTC), timedelta(minutes=5)) is due
