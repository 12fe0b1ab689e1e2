import dagster as dg

from autoclip_assets.jobs import publish_job
from autoclip_core.pipeline_names import TRIGGER_TAG, Trigger
from resources.app_database import AppDatabase


@dg.sensor(
    job=publish_job, minimum_interval_seconds=10, default_status=dg.DefaultSensorStatus.RUNNING
)
def approval_sensor(context: dg.SensorEvaluationContext, app_db: AppDatabase) -> dg.SensorResult:
    """Publishes items that a reviewer approved (ready + approved in the app database)."""
    requests = [
        dg.RunRequest(
            partition_key=item.id,
            # one run per approval: re-approving after a failed upload publishes again
            run_key=f"publish:{item.id}:{item.approved_at.isoformat() if item.approved_at else ''}",
            tags={TRIGGER_TAG: Trigger.APPROVAL},
        )
        for item in app_db.content.approved_awaiting_publication()
    ]
    return dg.SensorResult(run_requests=requests)
