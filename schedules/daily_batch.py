"""``daily_batch_schedule``: every project's daily batch, read from the app database.

A project with a ``daily_batch`` (set through the API or mirrored from the sources file)
has its batch at ``time`` in its batch's time zone (the project's when the batch names
none). The schedule is evaluated every ``TICK_MINUTES`` minutes; a project whose batch time
fell within the last tick's span takes its ``draft`` items stored within ``lookback_hours``,
ranks them with the score of ``autoclip_core.ingest.scoring`` (freshness, the project's
topic weights, length, novelty against items already published) and requests a
``content_job`` run for the top ``count``. The run key is the item's id, so the batch never
generates an item twice. Projects come from the database on every tick, so a project created
or changed through the API needs no reload. (``build_schedule_from_partitioned_job`` refuses
dynamic partitions, so the schedule lists its keys itself.)

With ``AUTOCLIP_GEMINI_BATCH=1`` (and Gemini as the LLM provider) the same picks go first to
one ``llm_batch_job`` run per project and day (``build_daily_batch_schedule(prepare=True)``),
which asks their analyses, verdicts and scripts through Gemini's Batch API; its end requests
the items' ``content_job`` runs, the same runs as above (``sensors.llm_batch``).

The second daily schedule of a project, refreshing the performance of its published
items, is ``schedules.performance``.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from autoclip_assets.jobs import content_job
from autoclip_assets.llm_batch import LLMBatchConfig, llm_batch_job
from autoclip_assets.partitions import content_items
from autoclip_core.db.content import ContentRepository
from autoclip_core.db.projects import ProjectSettings
from autoclip_core.ingest.scoring import ScoredItem, pick_top
from autoclip_core.ingest.state import utcnow
from autoclip_core.pipeline_names import PROJECT_TAG, SCORE_TAG, TRIGGER_TAG, Trigger
from autoclip_core.states import ContentState
from resources.app_database import AppDatabase

TICK_MINUTES = 5
NOVELTY_WINDOW = timedelta(days=30)


def batch_due(project: ProjectSettings, now: datetime, span: timedelta) -> bool:
    """Whether the project's batch time (in its zone, today or yesterday) is in ``(now -
    span, now]``: every batch time is in exactly one tick's span, whatever the zone."""
    batch = project.daily_batch
    if batch is None:
        return False
    zone = ZoneInfo(batch.timezone or project.timezone)
    hour, minute = (int(part) for part in batch.time.split(":"))
    local_day = now.astimezone(zone).date()
    for day in (local_day, local_day - timedelta(days=1)):
        at = datetime.combine(day, time(hour, minute), tzinfo=zone)
        if now - span < at <= now:
            return True
    return False


def batch_picks(
    project: ProjectSettings,
    content: ContentRepository,
    partitions: set[str],
    now: datetime,
    log: dg.DagsterLogManager | None = None,
) -> list[ScoredItem]:
    """The project's top drafts, best first."""
    batch = project.daily_batch
    assert batch is not None, "only projects with a daily batch have one"
    since = now - timedelta(hours=batch.lookback_hours)
    drafts = [
        (item, at)
        for item, at in content.items_in_states(project.slug, [ContentState.DRAFT], since)
        if item.id in partitions
    ]
    if not drafts:
        return []
    published = [
        item
        for item, _ in content.items_in_states(
            project.slug, [ContentState.PUBLISHED], now - NOVELTY_WINDOW
        )
    ]
    picked = pick_top(
        drafts, published, top_n=batch.count, now=now, topic_weights=dict(project.topic_weights)
    )
    for rank, scored in enumerate(picked, 1):
        if log is not None:
            title = scored.title[:80]
            log.info(f"{project.slug} {rank}. {scored.score:.3f} {scored.parts} {title}")
    return picked


def item_run(project: str, item_id: str, score: float) -> dg.RunRequest:
    """The ``content_job`` run of a picked item; its run key keeps the batch from generating
    the item twice."""
    return dg.RunRequest(
        partition_key=item_id,
        run_key=f"daily:{item_id}",
        tags={
            TRIGGER_TAG: Trigger.DAILY_BATCH,
            PROJECT_TAG: project,
            SCORE_TAG: f"{score:.3f}",
        },
    )


def item_runs(project: str, picked: list[ScoredItem], now: datetime) -> list[dg.RunRequest]:
    """The picked items' ``content_job`` runs (``now`` is not needed for them)."""
    return [item_run(project, scored.item_id, scored.score) for scored in picked]


def prepare_runs(project: str, picked: list[ScoredItem], now: datetime) -> list[dg.RunRequest]:
    """One ``llm_batch_job`` run for the project's picks of the day."""
    config = LLMBatchConfig(
        project=project,
        items=[scored.item_id for scored in picked],
        scores=[scored.score for scored in picked],
    )
    return [
        dg.RunRequest(
            run_key=f"daily-llm:{project}:{now.date().isoformat()}",
            run_config=dg.RunConfig(ops={"llm_batch": config}),
            tags={TRIGGER_TAG: Trigger.DAILY_BATCH, PROJECT_TAG: project},
        )
    ]


def build_daily_batch_schedule(*, prepare: bool) -> dg.ScheduleDefinition:
    """The daily batch schedule: the picked items' ``content_job`` runs, or, with
    ``prepare``, one ``llm_batch_job`` run per project that asks their language work ahead."""
    runs_for = prepare_runs if prepare else item_runs

    @dg.schedule(
        name="daily_batch_schedule",
        cron_schedule=f"*/{TICK_MINUTES} * * * *",
        execution_timezone="UTC",
        job=llm_batch_job if prepare else content_job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Each project's daily batch: the top drafts at its batch time in its time "
        f"zone (evaluated every {TICK_MINUTES} minutes)"
        + (", their language work asked ahead through the Batch API." if prepare else "."),
    )
    def daily_batch_schedule(
        context: dg.ScheduleEvaluationContext, app_db: AppDatabase
    ) -> list[dg.RunRequest] | dg.SkipReason:
        now: datetime = context.scheduled_execution_time or utcnow()
        due = [
            project
            for project in app_db.projects.all()
            if batch_due(project, now, timedelta(minutes=TICK_MINUTES))
        ]
        if not due:
            return dg.SkipReason("no project's daily batch is due")
        partitions = set(context.instance.get_dynamic_partitions(content_items.name))
        requests = [
            request
            for project in due
            if (picked := batch_picks(project, app_db.content, partitions, now, context.log))
            for request in runs_for(project.slug, picked, now)
        ]
        if not requests:
            slugs = ", ".join(p.slug for p in due)
            return dg.SkipReason(f"daily batch of {slugs}: no draft items to generate")
        return requests

    return daily_batch_schedule


daily_batch_schedule = build_daily_batch_schedule(prepare=False)
