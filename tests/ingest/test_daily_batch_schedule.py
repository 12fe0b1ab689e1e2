"""The daily batch schedule, evaluated against a test instance (``dg.instance_for_test``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from autoclip_assets.partitions import content_items
from autoclip_core.db.migrate import upgrade
from autoclip_core.ingest.config import parse_sources_config
from autoclip_core.schemas import SourceItem
from autoclip_core.states import ContentState
from resources.app_database import AppDatabase
from schedules.daily_batch import build_daily_batch_schedules
from tests.fakes.feeds import article_text

SEOUL = ZoneInfo("Asia/Seoul")
CONFIG = parse_sources_config({"projects": [
    {"slug": "news-ko", "timezone": "Asia/Seoul", "daily_batch": {"at": "09:00", "top_n": 2},
     "topic_weights": {"subway": 1.0}},
    {"slug": "no-batch"},
]})  # fmt: skip


def item(n: int, text: str, hours_old: float = 2) -> SourceItem:
    return SourceItem(
        id=f"news-ko-{n:012d}", project="news-ko", source="feed", url=f"https://e.kr/{n}",
        title=f"Story {n}", text=text,
        published_at=datetime.now(SEOUL) - timedelta(hours=hours_old),
    )  # fmt: skip


def evaluate(tmp_path: Path, items: list[SourceItem], *, partitions: list[str] | None = None,
             published: list[str] = (), processing: list[str] = ()):  # type: ignore[no-untyped-def]  # fmt: skip
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    AppDatabase(url=url).projects.ensure("news-ko")
    store = AppDatabase(url=url).content
    store.register_new_items(items)
    for content_id in processing:
        store.set_state(content_id, ContentState.PROCESSING)
    for content_id in published:
        for state in (ContentState.PROCESSING, ContentState.READY, ContentState.PUBLISHED):
            store.set_state(content_id, state)
    [schedule] = build_daily_batch_schedules(CONFIG)
    with dg.instance_for_test() as instance:
        keys = [i.id for i in items] if partitions is None else partitions
        instance.add_dynamic_partitions(content_items.name, keys)
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime.now(SEOUL).replace(microsecond=0),
            resources={"app_db": AppDatabase(url=url)},
        )
        return schedule(context)


def test_one_schedule_per_project_with_a_batch_at_its_local_time(tmp_path: Path) -> None:
    [schedule] = build_daily_batch_schedules(CONFIG)
    assert schedule.name == "daily_batch_news_ko_schedule"
    assert schedule.cron_schedule == "0 9 * * *"
    assert schedule.execution_timezone == "Asia/Seoul"
    assert schedule.job_name == "content_job"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_top_n_drafts_of_the_day_are_generated(tmp_path: Path) -> None:
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
    requests = evaluate(tmp_path, items, partitions=partitions,
                        published=[item(6, "").id], processing=[item(5, "").id])  # fmt: skip
    assert isinstance(requests, list)
    assert [r.partition_key for r in requests] == [item(1, "").id, item(2, "").id]
    assert requests[0].run_key == f"daily:{item(1, '').id}"
    assert requests[0].tags["autoclip/trigger"] == "daily_batch"
    assert requests[0].tags["autoclip/project"] == "news-ko"
    assert float(requests[0].tags["autoclip/score"]) > float(requests[1].tags["autoclip/score"])


def test_a_day_without_drafts_is_skipped(tmp_path: Path) -> None:
    result = evaluate(tmp_path, [])
    assert isinstance(result, dg.SkipReason)
    assert "no draft items" in (result.skip_message or "")
