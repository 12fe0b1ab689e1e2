"""``performance_schedule``: every project's published items refreshed once a day, at 10:00
in the project's own time zone — the second daily schedule of a project, after its batch.

Projects come from the app database (those of the sources file and those created through
the API alike, with their ``timezone``), so one schedule serves them all and a project
created or moved to another zone needs no reload: it is evaluated at the top of every UTC
hour and requests, for each project whose local time is then in the 10 o'clock hour, a
``performance_job`` run per published item. The run key carries the item and the local
date, so an item is refreshed at most once per local day.
"""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg

from autoclip_assets.jobs import performance_job
from autoclip_assets.partitions import content_items
from autoclip_core.ingest.state import utcnow
from autoclip_core.pipeline_names import PROJECT_TAG, TRIGGER_TAG, Trigger
from resources.app_database import AppDatabase

REFRESH_HOUR = 10
"""Local hour (in each project's time zone) of the daily refresh."""


def run_key(content_id: str, local_day: str) -> str:
    return f"performance:{content_id}:{local_day}"


@dg.schedule(
    name="performance_schedule",
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    job=performance_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=f"Daily performance refresh of every project's published items at "
    f"{REFRESH_HOUR}:00 in the project's time zone (evaluated hourly).",
)
def performance_schedule(
    context: dg.ScheduleEvaluationContext, app_db: AppDatabase
) -> list[dg.RunRequest] | dg.SkipReason:
    now: datetime = context.scheduled_execution_time or utcnow()
    partitions: set[str] | None = None
    requests: list[dg.RunRequest] = []
    due: list[str] = []
    for project in app_db.projects.all():
        try:
            local = now.astimezone(ZoneInfo(project.timezone))
        except (ZoneInfoNotFoundError, ValueError):
            context.log.warning(f"{project.slug}: unknown time zone {project.timezone!r}")
            continue
        if local.hour != REFRESH_HOUR:
            continue
        due.append(project.slug)
        published = app_db.content.published_item_ids(project.slug)
        if not published:
            continue
        if partitions is None:
            partitions = set(context.instance.get_dynamic_partitions(content_items.name))
        requests.extend(
            dg.RunRequest(
                partition_key=content_id,
                run_key=run_key(content_id, local.date().isoformat()),
                tags={TRIGGER_TAG: Trigger.PERFORMANCE, PROJECT_TAG: project.slug},
            )
            for content_id in published
            if content_id in partitions
        )
    if not requests:
        where = ", ".join(due) if due else "no project"
        return dg.SkipReason(f"{REFRESH_HOUR}:00 local in {where}: no published items to refresh")
    return requests
