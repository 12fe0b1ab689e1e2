"""sync_run maps run events onto content/job states, whatever order the sensors see them in."""

import itertools
from pathlib import Path

import dagster as dg
import pytest
from dagster import DagsterRun, DagsterRunStatus

from autoclip_core.schemas import SourceItem
from autoclip_core.states import ContentState
from autoclip_core.store import ContentStore
from sensors.run_status import sync_run

S = DagsterRunStatus


@pytest.fixture
def store(tmp_path: Path) -> ContentStore:
    s = ContentStore(f"sqlite:///{tmp_path / 'app.db'}")
    s.migrate()
    s.ensure_project("p")
    s.register_item(SourceItem(id="p-1", project="p", source="f", url="u", title="t", text="x"))
    return s


def run(job: str = "content_job") -> DagsterRun:
    return DagsterRun(job_name=job, run_id="run-1", tags={"dagster/partition": "p-1"})


@pytest.mark.parametrize("order", list(itertools.permutations([S.QUEUED, S.STARTED, S.SUCCESS])))
def test_successful_run_ends_ready_in_any_event_order(store: ContentStore, order) -> None:  # type: ignore[no-untyped-def]
    with dg.instance_for_test() as instance:
        for status in order:
            sync_run(store, instance, run(), status)
    assert store.status("p-1").state == ContentState.READY
    assert store.jobs("p-1") == [("run-1", "content_job", "completed", None)]
    assert [e[1] for e in store.events("p-1")] == ["draft", "processing", "ready"]


def test_failed_run_fails_the_item_even_if_its_start_is_seen_late(store: ContentStore) -> None:
    with dg.instance_for_test() as instance:
        sync_run(store, instance, run(), S.FAILURE)
        sync_run(store, instance, run(), S.STARTED)
    status = store.status("p-1")
    assert status.state == ContentState.FAILED
    assert status.reason == "run failed"


def test_failed_publish_run_marks_the_upload_failed(store: ContentStore) -> None:
    store.set_state("p-1", ContentState.PROCESSING)
    store.set_state("p-1", ContentState.READY)
    with dg.instance_for_test() as instance:
        sync_run(store, instance, run("publish_job"), S.STARTED)
        sync_run(store, instance, run("publish_job"), S.FAILURE)
    assert store.status("p-1").state == ContentState.FAILED_UPLOAD


def test_runs_of_other_jobs_are_ignored(store: ContentStore) -> None:
    with dg.instance_for_test() as instance:
        sync_run(store, instance, run("__ASSET_JOB"), S.SUCCESS)
    assert store.status("p-1").state == ContentState.DRAFT
