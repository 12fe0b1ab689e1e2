"""Keep content, job and upload states in the app database current with Dagster runs.

``sync_run`` is the one place that maps a run's status onto the content states
(``autoclip_core.states``); the run-status sensor below calls it (and so does the demo
after in-process runs). A run the API submitted carries its request's id (``REQUEST_TAG``),
which links it to that ``jobs`` row. When a run ends, each step's state, times, tries and
real error (Dagster's own run failure says only "Steps failed") and the checks' verdicts
are recorded on its job; a run that published records each channel's receipt.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
from dagster import DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus
from dagster._core.events.log import EventLogEntry

from autoclip_core.db.content import ContentRepository, UnknownContentError
from autoclip_core.db.engine import Database
from autoclip_core.db.jobs import CheckRecord, JobRepository, StepRecord, StepState
from autoclip_core.db.uploads import UNFINISHED, UploadRepository
from autoclip_core.pipeline_names import (
    PARTITION_TAG,
    PUBLISH_JOB,
    REQUEST_TAG,
    STATE_CHANGING_JOBS,
    tagged_channels,
)
from autoclip_core.schemas import PublishReceipt
from autoclip_core.states import ContentState, JobState
from resources.app_database import AppDatabase

RUN_TO_JOB_STATE = {
    DagsterRunStatus.QUEUED: JobState.PENDING,
    DagsterRunStatus.STARTED: JobState.RUNNING,
    DagsterRunStatus.SUCCESS: JobState.COMPLETED,
    DagsterRunStatus.FAILURE: JobState.FAILED,
    DagsterRunStatus.CANCELED: JobState.FAILED,
}
FINISHED = frozenset(
    {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
)
PUBLICATION = "publication"

E = DagsterEventType
STEP_EVENTS = {
    E.STEP_START,
    E.STEP_RESTARTED,
    E.STEP_UP_FOR_RETRY,
    E.STEP_SUCCESS,
    E.STEP_FAILURE,
    E.STEP_SKIPPED,
    E.ASSET_MATERIALIZATION,
    E.ASSET_CHECK_EVALUATION,
}


def step_error(record: EventLogEntry) -> str:
    """What went wrong in a failed step, in words: the ``Failure`` it raised, else the
    exception at the root of the error."""
    event = record.get_dagster_event()
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    if data.error is not None:
        cause = data.error.cause or data.error
        return cause.message.strip()
    return "step failed"


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
        else:
            reasons.append(f"{record.step_key}: {step_error(record)}")
    return "; ".join(reasons) or "run failed"


def run_details(
    instance: DagsterInstance, run_id: str
) -> tuple[list[StepRecord], list[CheckRecord], list[PublishReceipt]]:
    """Each step of the run (in the order they started), the checks' verdicts and the
    publication's receipts, from the run's event log."""
    steps: dict[str, dict[str, Any]] = {}
    checks: list[CheckRecord] = []
    receipts: list[PublishReceipt] = []
    for record in instance.all_logs(run_id, of_type=STEP_EVENTS):
        event = record.get_dagster_event()
        if event.step_key is None:
            continue
        at = datetime.fromtimestamp(record.timestamp, UTC)
        step = steps.setdefault(
            event.step_key,
            {"state": "running", "started_at": None, "finished_at": None, "attempts": 0,
             "error": None, "materialized": False},
        )  # fmt: skip
        kind = event.event_type
        if kind in (E.STEP_START, E.STEP_RESTARTED):
            step["attempts"] += 1
            step["started_at"] = step["started_at"] or at
            step["state"] = "running"
        elif kind == E.STEP_UP_FOR_RETRY:
            step["error"] = str(event.event_specific_data.error.message).strip()
        elif kind in (E.STEP_SUCCESS, E.STEP_FAILURE, E.STEP_SKIPPED):
            step["state"] = _STEP_STATES[kind]
            step["finished_at"] = at
            step["error"] = step_error(record) if kind == E.STEP_FAILURE else None
        elif kind == E.ASSET_MATERIALIZATION:
            step["materialized"] = True
            if event.asset_key == dg.AssetKey(PUBLICATION):
                receipts.extend(_receipts(event))
        elif kind == E.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            checks.append(
                CheckRecord(
                    name=evaluation.check_name,
                    asset=evaluation.asset_key.to_user_string(),
                    passed=bool(evaluation.passed),
                    description=evaluation.description,
                )
            )
    return [StepRecord(key=key, **data) for key, data in steps.items()], checks, receipts


_STEP_STATES: dict[DagsterEventType, StepState] = {
    E.STEP_SUCCESS: "succeeded",
    E.STEP_FAILURE: "failed",
    E.STEP_SKIPPED: "skipped",
}


def _receipts(event: dg.DagsterEvent) -> Iterable[PublishReceipt]:
    materialization = event.event_specific_data.materialization
    entry = materialization.metadata.get("receipts")
    data = getattr(entry, "value", None) or []
    return [PublishReceipt.model_validate(receipt) for receipt in data]


def sync_run(
    database: Database, instance: DagsterInstance, run: DagsterRun, status: DagsterRunStatus
) -> None:
    content = ContentRepository(database)
    jobs = JobRepository(database)
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
    advanced = jobs.record(
        run_id=run.run_id,
        content_id=content_id,
        job_name=run.job_name,
        state=RUN_TO_JOB_STATE[status],
        error=error,
        request_id=run.tags.get(REQUEST_TAG),
    )
    if not advanced or status == DagsterRunStatus.QUEUED:
        return  # a repeated or stale event: the state already reflects it
    published = False
    if status in FINISHED:
        steps, checks, receipts = run_details(instance, run.run_id)
        jobs.record_details(run.run_id, steps, checks)
        published = _record_uploads(database, run, content_id, steps, receipts, error)
    if publishing:
        if status == DagsterRunStatus.SUCCESS and published:
            content.set_state(content_id, ContentState.PUBLISHED)
        elif error is not None and current != ContentState.PUBLISHED:
            # an item published on some channels stays published when another one fails
            content.set_state(content_id, ContentState.FAILED_UPLOAD, error)
        return
    if current != ContentState.PROCESSING:  # started, or finished before its start was seen
        content.set_state(content_id, ContentState.PROCESSING)
    if status == DagsterRunStatus.SUCCESS:
        content.set_state(content_id, ContentState.READY)
        if published:
            content.set_state(content_id, ContentState.PUBLISHED)
    elif error is not None:
        content.set_state(content_id, ContentState.FAILED, error)


def _record_uploads(
    database: Database,
    run: DagsterRun,
    content_id: str,
    steps: list[StepRecord],
    receipts: list[PublishReceipt],
    error: str | None,
) -> bool:
    """Each channel's outcome of the run's publication step; whether it published."""
    uploads = UploadRepository(database)
    if receipts:
        uploads.published(content_id, receipts)
        return True
    failed = next((s for s in steps if s.key == PUBLICATION and s.state == "failed"), None)
    if failed is not None or (run.job_name == PUBLISH_JOB and error is not None):
        uploads.failed(
            content_id,
            _target_channels(run, uploads, content_id),
            (failed.error if failed else None) or error or "publication failed",
        )
    return False


def _target_channels(run: DagsterRun, uploads: UploadRepository, content_id: str) -> list[str]:
    """The channels a publication run was for: its channels tag, else those awaiting one."""
    tagged = tagged_channels(run.tags)
    if tagged:
        return tagged
    return [u.channel for u in uploads.of_content(content_id) if u.state in UNFINISHED]


# Runs updated this long before the newest one already seen are read again: a run whose
# update committed a moment after a later one would otherwise be skipped (``sync_run`` ignores
# what it has already recorded).
RESCAN = timedelta(seconds=2)
RUNS_PER_TICK = 500


@dg.sensor(
    name="content_run_status_sensor",
    minimum_interval_seconds=2,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records content and publish runs' states in the app database as they change.",
)
def run_status_sensor(
    context: dg.SensorEvaluationContext, app_db: AppDatabase
) -> dg.SkipReason | None:
    """Every run updated since the last tick, in the order of their updates, through
    ``sync_run`` with the status it has now (a status passed between two ticks is filled in
    by ``sync_run``). One sensor for every status: each tick costs the daemon a call into the
    code location, and five run-status sensors (one per status) made five."""
    seen = datetime.fromisoformat(context.cursor) if context.cursor else None
    records = context.instance.get_run_records(
        filters=dg.RunsFilter(updated_after=seen - RESCAN if seen else None),
        limit=RUNS_PER_TICK,
        order_by="update_timestamp",
        ascending=True,
    )
    for record in records:
        run = record.dagster_run
        if run.status in RUN_TO_JOB_STATE:
            sync_run(app_db.database, context.instance, run, run.status)
    newest = max((r.update_timestamp for r in records), default=seen)
    if newest is None or newest == seen:
        return dg.SkipReason("no run changed")
    context.update_cursor(newest.isoformat())
    return None
