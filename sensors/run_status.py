"""Keep content and job states in the app database current with Dagster runs.

``sync_run`` is the one place that maps a run's status onto the content states
(``autoclip_core.states``); the run-status sensors below call it (and so does the demo
after in-process runs).
"""

import dagster as dg
from dagster import DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus

from autoclip_assets.jobs import content_job, publish_job
from autoclip_core.db.content import ContentRepository, UnknownContentError
from autoclip_core.db.engine import Database
from autoclip_core.db.jobs import JobRepository
from autoclip_core.pipeline_names import PARTITION_TAG, PUBLISH_JOB, STATE_CHANGING_JOBS
from autoclip_core.states import ContentState, JobState
from resources.app_database import AppDatabase

RUN_TO_JOB_STATE = {
    DagsterRunStatus.QUEUED: JobState.PENDING,
    DagsterRunStatus.STARTED: JobState.RUNNING,
    DagsterRunStatus.SUCCESS: JobState.COMPLETED,
    DagsterRunStatus.FAILURE: JobState.FAILED,
    DagsterRunStatus.CANCELED: JobState.FAILED,
}


def failure_reason(instance: DagsterInstance, run_id: str) -> str:
    """Why a run failed, in words: failed blocking checks first, then step errors."""
    reasons: list[str] = []
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.get_dagster_event().event_specific_data
        if evaluation is not None and not evaluation.passed:
            reasons.append(evaluation.description or f"check {evaluation.check_name} failed")
    if reasons:
        return "; ".join(reasons)
    for record in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        data = record.get_dagster_event().step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            reasons.append(data.user_failure_data.description)
        elif data.error is not None:
            cause = data.error.cause or data.error
            reasons.append(f"{record.step_key}: {cause.message.strip()}")
    return "; ".join(reasons) or "run failed"


def materialized(instance: DagsterInstance, run_id: str, asset: str) -> bool:
    return any(
        record.get_dagster_event().asset_key == dg.AssetKey(asset)
        for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
    )


def sync_run(
    database: Database, instance: DagsterInstance, run: DagsterRun, status: DagsterRunStatus
) -> None:
    content = ContentRepository(database)
    content_id = run.tags.get(PARTITION_TAG)
    if run.job_name not in STATE_CHANGING_JOBS or not content_id or status not in RUN_TO_JOB_STATE:
        return
    try:
        current = content.status(content_id).state
    except UnknownContentError:
        return
    publishing = run.job_name == PUBLISH_JOB
    error = failure_reason(instance, run.run_id) if status == DagsterRunStatus.FAILURE else None
    if status == DagsterRunStatus.CANCELED:
        error = "run canceled"
    advanced = JobRepository(database).record(
        run_id=run.run_id,
        content_id=content_id,
        job_name=run.job_name,
        state=RUN_TO_JOB_STATE[status],
        error=error,
    )
    if not advanced or status == DagsterRunStatus.QUEUED:
        return  # a repeated or stale event: the state already reflects it
    if publishing:
        if status == DagsterRunStatus.SUCCESS and materialized(instance, run.run_id, "publication"):
            content.set_state(content_id, ContentState.PUBLISHED)
        elif error is not None:
            content.set_state(content_id, ContentState.FAILED_UPLOAD, error)
        return
    if current != ContentState.PROCESSING:  # started, or finished before its start was seen
        content.set_state(content_id, ContentState.PROCESSING)
    if status == DagsterRunStatus.SUCCESS:
        content.set_state(content_id, ContentState.READY)
        if materialized(instance, run.run_id, "publication"):
            content.set_state(content_id, ContentState.PUBLISHED)
    elif error is not None:
        content.set_state(content_id, ContentState.FAILED, error)


def _status_sensor(status: DagsterRunStatus) -> dg.RunStatusSensorDefinition:
    @dg.run_status_sensor(
        name=f"content_run_{status.value.lower()}_sensor",
        run_status=status,
        monitored_jobs=[content_job, publish_job],
        minimum_interval_seconds=5,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Records {status.value} content runs in the app database.",
    )
    def _sensor(context: dg.RunStatusSensorContext, app_db: AppDatabase) -> None:
        sync_run(app_db.database, context.instance, context.dagster_run, status)

    return _sensor


run_status_sensors = [
    _status_sensor(status)
    for status in (
        DagsterRunStatus.QUEUED,
        DagsterRunStatus.STARTED,
        DagsterRunStatus.SUCCESS,
        DagsterRunStatus.FAILURE,
        DagsterRunStatus.CANCELED,
    )
]
