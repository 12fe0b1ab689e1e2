"""One daily batch schedule per project with a ``daily_batch`` in the sources file.

At the project's time in its time zone (e.g. 09:00 Asia/Seoul) the schedule takes the
project's ``draft`` items stored within ``lookback_hours``, ranks them with the score of
``autoclip_core.ingest.scoring`` (freshness, topic weight, length, novelty against items
already published) and requests a ``content_job`` run for the top N. The run key is the
item's id, so the batch never generates an item twice. (``build_schedule_from_partitioned_job``
refuses dynamic partitions, so the schedule lists its keys itself.)

The second daily schedule of a project, refreshing the performance of its published
items, is ``schedules.performance``.
"""

import re
from datetime import datetime, timedelta

import dagster as dg

from autoclip_assets.jobs import content_job
from autoclip_assets.partitions import content_items
from autoclip_core.ingest.config import ProjectConfig, SourcesConfig
from autoclip_core.ingest.scoring import pick_top
from autoclip_core.ingest.state import utcnow
from autoclip_core.pipeline_names import PROJECT_TAG, SCORE_TAG, TRIGGER_TAG, Trigger
from autoclip_core.states import ContentState
from resources.app_database import AppDatabase

NOVELTY_WINDOW = timedelta(days=30)


def schedule_name(slug: str) -> str:
    return f"daily_batch_{re.sub(r'[^A-Za-z0-9_]', '_', slug)}_schedule"


def build_daily_batch_schedule(project: ProjectConfig) -> dg.ScheduleDefinition:
    batch = project.daily_batch
    assert batch is not None, "only projects with a daily_batch get a schedule"
    slug = project.slug

    @dg.schedule(
        name=schedule_name(slug),
        cron_schedule=batch.cron,
        execution_timezone=project.timezone,
        job=content_job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            f"Daily batch of {slug}: top {batch.top_n} drafts of the last "
            f"{batch.lookback_hours:g} h at {batch.at} {project.timezone}."
        ),
    )
    def daily_batch(
        context: dg.ScheduleEvaluationContext, app_db: AppDatabase
    ) -> list[dg.RunRequest] | dg.SkipReason:
        now: datetime = context.scheduled_execution_time or utcnow()
        content = app_db.content
        drafts = content.items_in_states(
            slug, [ContentState.DRAFT], now - timedelta(hours=batch.lookback_hours)
        )
        partitions = set(context.instance.get_dynamic_partitions(content_items.name))
        drafts = [(item, at) for item, at in drafts if item.id in partitions]
        if not drafts:
            return dg.SkipReason(f"{slug}: no draft items in the last {batch.lookback_hours:g} h")
        published = [
            item
            for item, _ in content.items_in_states(
                slug, [ContentState.PUBLISHED], now - NOVELTY_WINDOW
            )
        ]
        picked = pick_top(
            drafts,
            published,
            top_n=batch.top_n,
            now=now,
            topic_weights=dict(project.topic_weights),
        )
        for rank, scored in enumerate(picked, 1):
            context.log.info(f"{rank}. {scored.score:.3f} {scored.parts} {scored.title[:80]}")
        return [
            dg.RunRequest(
                partition_key=scored.item_id,
                run_key=f"daily:{scored.item_id}",
                tags={
                    TRIGGER_TAG: Trigger.DAILY_BATCH,
                    PROJECT_TAG: slug,
                    SCORE_TAG: f"{scored.score:.3f}",
                },
            )
            for scored in picked
        ]

    return daily_batch


def build_daily_batch_schedules(config: SourcesConfig) -> list[dg.ScheduleDefinition]:
    return [build_daily_batch_schedule(p) for p in config.projects if p.daily_batch]
