"""``webhook_items_sensor``: items pushed through the webhook become partitions and runs.

The webhook (``POST /api/v1/projects/{id}/sources/{sid}/items``) stores pushed items as
``draft`` content items carrying their source row (``content_items.source_id``); it does
not talk to Dagster. This sensor finds those stored since its cursor (a time watermark,
re-read with an overlap so that a transaction committing late is not missed), adds a
``content_items`` partition for each one that has none yet, and requests a ``content_job``
run for those of projects that auto-generate — the same rule, tags and run-queue limit as
polled items (``content_run_requests``). Adding a partition twice or requesting a run under the same
``run_key`` is harmless, so the sensor may re-read safely.
"""

from datetime import datetime, timedelta

import dagster as dg

from autoclip_assets.jobs import content_job
from autoclip_assets.partitions import content_items
from autoclip_core.ingest.config import source_key
from autoclip_core.ingest.state import utcnow
from resources.app_database import AppDatabase
from sensors.sources import content_run_requests

FIRST_LOOKBACK = timedelta(days=7)
"""How far back the very first tick (no cursor yet) looks."""
OVERLAP = timedelta(minutes=10)
"""Re-read before the watermark: a push committed late still carries an earlier time."""
MAX_NEW_PER_TICK = 1000


def _watermark(cursor: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(cursor) if cursor else None
    except ValueError:
        return None


@dg.sensor(
    name="webhook_items_sensor",
    job=content_job,
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Items pushed through the webhook become partitions (and runs when the "
    "project auto-generates).",
)
def webhook_items_sensor(
    context: dg.SensorEvaluationContext, app_db: AppDatabase
) -> dg.SensorResult:
    watermark = _watermark(context.cursor)
    since = watermark - OVERLAP if watermark else utcnow() - FIRST_LOOKBACK
    pushed = app_db.content.pushed_items_since(since, limit=50 * MAX_NEW_PER_TICK)
    if not pushed:
        return dg.SensorResult(skip_reason="no pushed items", cursor=context.cursor)
    partitions = set(context.instance.get_dynamic_partitions(content_items.name))
    waiting = [item for item in pushed if item.id not in partitions]
    new = waiting[:MAX_NEW_PER_TICK]
    # Past everything read, unless some are left for the next tick: then up to the last taken.
    newest = (new[-1] if len(waiting) > len(new) else pushed[-1]).created_at
    cursor = max(newest, watermark).isoformat() if watermark else newest.isoformat()
    if not new:
        return dg.SensorResult(skip_reason="every pushed item has its partition", cursor=cursor)
    from autoclip_core.ingest.engine import NewItem  # see sources_sensor: daemon only

    items = [NewItem(p.project, p.id, source_key(p.project, p.source_id)) for p in new]
    context.log.info(f"{len(items)} pushed item(s) get partitions")
    return dg.SensorResult(
        run_requests=content_run_requests(app_db.projects, items),
        dynamic_partitions_requests=[content_items.build_add_request([p.id for p in new])],
        cursor=cursor,
    )
