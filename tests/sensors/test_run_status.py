"""sync_run maps run events onto content/job states, whatever order the sensors see them in."""

import itertools
from pathlib import Path

import dagster as dg
import pytest
from dagster import DagsterRun, DagsterRunStatus
from dagster._serdes import deserialize_value, serialize_value

from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database
from autoclip_core.db.jobs import JobRepository
from autoclip_core.db.migrate import upgrade
from autoclip_core.db.projects import ProjectRepository
from autoclip_core.pipeline_names import (
    CONTENT_JOB,
    PARTITION_TAG,
    PROJECT_TAG,
    PUBLISH_JOB,
    TRIGGER_TAG,
    Trigger,
)
from autoclip_core.schemas import SourceItem
from autoclip_core.states import ContentState
from sensors.run_status import sync_run

S = DagsterRunStatus


@pytest.fixture
def db(tmp_path: Path) -> Database:
    upgrade(f"sqlite:///{tmp_path / 'app.db'}")
    database = Database.open(f"sqlite:///{tmp_path / 'app.db'}")
    ProjectRepository(database).ensure("p")
    item = SourceItem(id="p-1", project="p", source="f", url="u", title="t", text="x")
    ContentRepository(database).register_item(item)
    return database


def run(job: str = CONTENT_JOB) -> DagsterRun:
    return DagsterRun(job_name=job, run_id="run-1", tags={PARTITION_TAG: "p-1"})


def test_runs_with_our_tags_can_be_stored() -> None:
    """Dagster serialises a run's tags as plain strings only (no enum members)."""
    tags = {PARTITION_TAG: "p-1", TRIGGER_TAG: Trigger.DEMO, PROJECT_TAG: "p"}
    stored = deserialize_value(serialize_value(DagsterRun(job_name=CONTENT_JOB, tags=tags)))
    assert stored.tags == tags


@pytest.mark.parametrize("order", list(itertools.permutations([S.QUEUED, S.STARTED, S.SUCCESS])))
def test_successful_run_ends_ready_in_any_event_order(db: Database, order) -> None:  # type: ignore[no-untyped-def]
    with dg.instance_for_test() as instance:
        for status in order:
            sync_run(db, instance, run(), status)
    assert ContentRepository(db).status("p-1").state == ContentState.READY
    assert JobRepository(db).of_content("p-1") == [("run-1", CONTENT_JOB, "completed", None)]
    assert [e[1] for e in ContentRepository(db).events("p-1")] == ["draft", "processing", "ready"]


def test_failed_run_fails_the_item_even_if_its_start_is_seen_late(db: Database) -> None:
    with dg.instance_for_test() as instance:
        sync_run(db, instance, run(), S.FAILURE)
        sync_run(db, instance, run(), S.STARTED)
    status = ContentRepository(db).status("p-1")
    assert status.state == ContentState.FAILED
    assert status.reason == "run failed"


def test_failed_publish_run_marks_the_upload_failed(db: Database) -> None:
    ContentRepository(db).set_state("p-1", ContentState.PROCESSING)
    ContentRepository(db).set_state("p-1", ContentState.READY)
    with dg.instance_for_test() as instance:
        sync_run(db, instance, run(PUBLISH_JOB), S.STARTED)
        sync_run(db, instance, run(PUBLISH_JOB), S.FAILURE)
    assert ContentRepository(db).status("p-1").state == ContentState.FAILED_UPLOAD


def test_runs_of_other_jobs_are_ignored(db: Database) -> None:
    with dg.instance_for_test() as instance:
        sync_run(db, instance, run("__ASSET_JOB"), S.SUCCESS)
    assert ContentRepository(db).status("p-1").state == ContentState.DRAFT
