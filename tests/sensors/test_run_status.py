"""sync_run maps run events onto content/job states, whatever order the sensor sees them in."""

import itertools
from collections.abc import Iterator

import dagster as dg
import pytest
from dagster import DagsterRun, DagsterRunStatus
from dagster._serdes import deserialize_value, serialize_value

from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database
from autoclip_core.db.jobs import JobRepository
from autoclip_core.db.projects import ProjectRepository
from autoclip_core.db.uploads import UploadRepository
from autoclip_core.pipeline_names import (
    CHANNELS_TAG,
    CONTENT_JOB,
    PARTITION_TAG,
    PROJECT_TAG,
    PUBLISH_JOB,
    REQUEST_TAG,
    TRIGGER_TAG,
    Trigger,
)
from autoclip_core.schemas import SourceItem
from autoclip_core.states import ContentState, JobState
from resources.app_database import AppDatabase
from sensors.run_status import run_status_sensor, sync_run

S = DagsterRunStatus


@pytest.fixture
def db(sqlite_app_url: str) -> Database:
    database = Database.open(sqlite_app_url)
    ProjectRepository(database).ensure("p")
    item = SourceItem(id="p-1", project="p", source="f", url="u", title="t", text="x")
    ContentRepository(database).register_item(item)
    return database


@pytest.fixture(scope="module")
def instance() -> Iterator[dg.DagsterInstance]:
    """One Dagster instance for the module: sync_run reads only the logs of the run it is given,
    and each test's runs have their own ids."""
    with dg.instance_for_test() as instance:
        yield instance


def run(job: str = CONTENT_JOB) -> DagsterRun:
    return DagsterRun(job_name=job, run_id="run-1", tags={PARTITION_TAG: "p-1"})


def test_runs_with_our_tags_can_be_stored() -> None:
    """Dagster serialises a run's tags as plain strings only (no enum members)."""
    tags = {PARTITION_TAG: "p-1", TRIGGER_TAG: Trigger.DEMO, PROJECT_TAG: "p"}
    stored = deserialize_value(serialize_value(DagsterRun(job_name=CONTENT_JOB, tags=tags)))
    assert stored.tags == tags


@pytest.mark.parametrize("order", list(itertools.permutations([S.QUEUED, S.STARTED, S.SUCCESS])))
def test_successful_run_ends_ready_in_any_event_order(
    db: Database, order: tuple[DagsterRunStatus, ...], instance: dg.DagsterInstance
) -> None:
    for status in order:
        sync_run(db, instance, run(), status)
    assert ContentRepository(db).status("p-1").state == ContentState.READY
    assert JobRepository(db).of_content("p-1") == [("run-1", CONTENT_JOB, "completed", None)]
    assert [e[1] for e in ContentRepository(db).events("p-1")] == ["draft", "processing", "ready"]


def test_failed_run_fails_the_item_even_if_its_start_is_seen_late(
    db: Database, instance: dg.DagsterInstance
) -> None:
    sync_run(db, instance, run(), S.FAILURE)
    sync_run(db, instance, run(), S.STARTED)
    status = ContentRepository(db).status("p-1")
    assert status.state == ContentState.FAILED
    assert status.reason == "run failed"


def test_failed_publish_run_marks_the_upload_failed(
    db: Database, instance: dg.DagsterInstance
) -> None:
    ContentRepository(db).set_state("p-1", ContentState.PROCESSING)
    ContentRepository(db).set_state("p-1", ContentState.READY)
    sync_run(db, instance, run(PUBLISH_JOB), S.STARTED)
    sync_run(db, instance, run(PUBLISH_JOB), S.FAILURE)
    assert ContentRepository(db).status("p-1").state == ContentState.FAILED_UPLOAD


def test_runs_of_other_jobs_are_ignored(db: Database, instance: dg.DagsterInstance) -> None:
    sync_run(db, instance, run("__ASSET_JOB"), S.SUCCESS)
    assert ContentRepository(db).status("p-1").state == ContentState.DRAFT


# what a finished run leaves on its job: steps, tries, real errors, checks, receipts ----------


def flaky(errors: list[Exception]) -> dg.AssetsDefinition:
    remaining = list(errors)

    @dg.asset(name="narration", retry_policy=dg.RetryPolicy(max_retries=3))
    def narration() -> str:
        if remaining:
            raise remaining.pop(0)
        return "spoken"

    return narration


@dg.asset_check(asset="narration", blocking=True)
def loud_enough() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, description="loudness -14 LUFS")


def run_of(result: dg.ExecuteInProcessResult, job: str = CONTENT_JOB, **tags: str) -> DagsterRun:
    return DagsterRun(job_name=job, run_id=result.run_id, tags={PARTITION_TAG: "p-1", **tags})


def test_a_run_the_api_requested_is_linked_to_its_job_by_the_request_tag(
    db: Database, instance: dg.DagsterInstance
) -> None:
    requested = JobRepository(db).request("p-1", CONTENT_JOB, requested_by="u1")
    tagged = DagsterRun(
        job_name=CONTENT_JOB, run_id="run-9", tags={PARTITION_TAG: "p-1", REQUEST_TAG: requested.id}
    )
    sync_run(db, instance, tagged, S.STARTED)
    [job] = JobRepository(db).records("p-1")
    assert (job.id, job.run_id, job.state) == (requested.id, "run-9", JobState.RUNNING)
    assert job.submitted_at is not None
    # the submitter recording the same run afterwards changes nothing
    assert JobRepository(db).mark_submitted(requested.id, "run-9")
    assert not JobRepository(db).mark_submitted(requested.id, "run-other")


def test_a_failed_run_records_each_step_with_its_tries_and_real_error(
    db: Database, instance: dg.DagsterInstance
) -> None:
    errors: list[Exception] = [
        dg.RetryRequested(max_retries=3),
        dg.Failure(description="tts: quota gone", allow_retries=False),
    ]
    result = dg.materialize([flaky(errors)], instance=instance, raise_on_error=False)
    sync_run(db, instance, run_of(result), S.STARTED)
    sync_run(db, instance, run_of(result), S.FAILURE)
    [job] = JobRepository(db).records("p-1")
    assert (job.state, job.error, job.attempts) == (JobState.FAILED, "tts: quota gone", 2)
    [step] = job.steps
    assert (step.key, step.state, step.attempts, step.error) == (
        "narration", "failed", 2, "tts: quota gone"
    )  # fmt: skip
    assert step.started_at is not None
    assert step.finished_at is not None
    assert step.finished_at >= step.started_at
    status = ContentRepository(db).status("p-1")
    assert (status.state, status.reason) == (ContentState.FAILED, "tts: quota gone")


def test_a_successful_run_records_the_checks_verdicts(
    db: Database, instance: dg.DagsterInstance
) -> None:
    checked = dg.Definitions(assets=[flaky([])], asset_checks=[loud_enough])
    result = checked.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance)
    sync_run(db, instance, run_of(result), S.SUCCESS)
    [job] = JobRepository(db).records("p-1")
    assert [(s.key, s.state, s.materialized) for s in job.steps] == [
        ("narration", "succeeded", True),
        ("narration_loud_enough", "succeeded", False),
    ]
    assert [(c.name, c.asset, c.passed, c.description) for c in job.checks] == [
        ("loud_enough", "narration", True, "loudness -14 LUFS")
    ]


def receipts_asset(fail: bool) -> dg.AssetsDefinition:
    @dg.asset(name="publication")
    def publication() -> dg.Output[str]:
        if fail:
            raise dg.Failure(description="local: disk full", allow_retries=False)
        receipt = {"channel": "main", "url": "file:///c/main/v.mp4",
                   "published_at": "2026-12-08T10:00:00+00:00"}  # fmt: skip
        return dg.Output("ok", metadata={"receipts": dg.MetadataValue.json([receipt])})

    return publication


@pytest.mark.parametrize("fail", [False, True])
def test_a_publish_run_records_each_channels_upload(
    db: Database, fail: bool, instance: dg.DagsterInstance
) -> None:
    content = ContentRepository(db)
    content.set_state("p-1", ContentState.PROCESSING)
    content.set_state("p-1", ContentState.READY)
    UploadRepository(db).request("p-1", ["main"])
    result = dg.materialize([receipts_asset(fail)], instance=instance, raise_on_error=False)
    run = run_of(result, PUBLISH_JOB, **{CHANNELS_TAG: "main"})
    sync_run(db, instance, run, S.STARTED)
    sync_run(db, instance, run, S.FAILURE if fail else S.SUCCESS)
    [upload] = UploadRepository(db).of_content("p-1")
    if fail:
        assert (upload.state, upload.error, upload.attempts) == ("failed", "local: disk full", 1)
        assert content.status("p-1").state == ContentState.FAILED_UPLOAD
    else:
        assert (upload.state, upload.url, upload.attempts) == (
            "published",
            "file:///c/main/v.mp4",
            1,
        )
        assert content.status("p-1").state == ContentState.PUBLISHED


# the sensor: every run changed since its last tick, whatever the status --------------------


def content_run(instance: dg.DagsterInstance, errors: list[Exception]) -> str:
    """A real ``content_job`` run of the item ``p-1`` on ``instance``; its run id."""
    job = dg.define_asset_job(CONTENT_JOB)
    defs = dg.Definitions(assets=[flaky(errors)], jobs=[job])
    result = defs.resolve_job_def(CONTENT_JOB).execute_in_process(
        instance=instance, tags={PARTITION_TAG: "p-1"}, raise_on_error=False
    )
    return result.run_id


def tick(
    instance: dg.DagsterInstance, db: Database, cursor: str | None
) -> tuple[dg.SkipReason | None, str | None]:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"app_db": AppDatabase(url=db.url)}
    )
    outcome = run_status_sensor(context)
    return outcome, context.cursor


def test_the_sensor_records_each_run_changed_since_its_last_tick(db: Database) -> None:
    with dg.instance_for_test() as instance:
        other = dg.materialize([flaky([])], instance=instance, tags={PARTITION_TAG: "p-1"})
        assert other.success  # a run of another job: ignored
        failed = content_run(instance, [dg.Failure(description="tts: gone", allow_retries=False)])
        skipped, cursor = tick(instance, db, None)
        assert skipped is None
        assert cursor is not None
        status = ContentRepository(db).status("p-1")
        assert (status.state, status.reason) == (ContentState.FAILED, "tts: gone")
        # nothing changed since: the next tick records nothing and keeps its place
        again, same = tick(instance, db, cursor)
        assert isinstance(again, dg.SkipReason)
        assert same == cursor
        retried = content_run(instance, [])  # the item made again
        _, newer = tick(instance, db, cursor)
        assert newer is not None
        assert newer > cursor
        assert ContentRepository(db).status("p-1").state == ContentState.READY
        jobs = JobRepository(db).of_content("p-1")
        assert sorted(jobs) == sorted(
            [
                (failed, CONTENT_JOB, "failed", "tts: gone"),
                (retried, CONTENT_JOB, "completed", None),
            ]
        )
