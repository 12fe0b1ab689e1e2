"""Uploads that waited are tried again: when the quota's next window opens, or when their
channel has been connected again."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import dagster as dg

from autoclip_assets.jobs import publish_job
from autoclip_core.db.uploads import UploadRepository
from autoclip_core.pipeline_names import CHANNELS_TAG, TRIGGER_TAG, Trigger
from resources.app_database import AppDatabase


@dg.sensor(
    job=publish_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING
)
def upload_retry_sensor(
    context: dg.SensorEvaluationContext, app_db: AppDatabase
) -> dg.SensorResult:
    """One publish run per item with waiting uploads that are due, for those channels."""
    due = UploadRepository(app_db.database).due(datetime.now(UTC))
    by_item: dict[str, list[str]] = defaultdict(list)
    since: dict[str, datetime] = {}
    for upload in due:
        by_item[upload.content_id].append(upload.channel)
        since[upload.content_id] = max(since.get(upload.content_id, upload.since), upload.since)
    requests = [
        dg.RunRequest(
            partition_key=content_id,
            # one run per window or reconnect: a later wait of the same upload asks again
            run_key=f"upload-retry:{content_id}:{','.join(channels)}:"
            f"{since[content_id].timestamp():.0f}",
            tags={TRIGGER_TAG: Trigger.SENSOR, CHANNELS_TAG: ",".join(channels)},
        )
        for content_id, channels in by_item.items()
    ]
    return dg.SensorResult(run_requests=requests)
