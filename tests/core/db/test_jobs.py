from __future__ import annotations

from datetime import UTC, datetime, timedelta

from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database
from autoclip_core.db.jobs import JobRepository
from autoclip_core.db.projects import ProjectRepository
from autoclip_core.states import JobState
from tests.core.db.helpers import item


def test_job_rows_advance_and_tolerate_a_missed_start(db: Database) -> None:
    ProjectRepository(db).ensure("news")
    ContentRepository(db).register_item(item(1))
    jobs = JobRepository(db)
    cid = item(1).id
    jobs.record(run_id="r1", content_id=cid, job_name="content_job", state=JobState.PENDING)
    jobs.record(run_id="r1", content_id=cid, job_name="content_job", state=JobState.RUNNING)
    jobs.record(run_id="r1", content_id=cid, job_name="content_job", state=JobState.COMPLETED)
    jobs.record(
        run_id="r2", content_id=cid, job_name="content_job", state=JobState.FAILED, error="boom"
    )
    assert jobs.of_content(cid) == [
        ("r1", "content_job", "completed", None),
        ("r2", "content_job", "failed", "boom"),
    ]
    # a late, stale event (queued/running after completion) changes nothing
    assert not jobs.record(
        run_id="r1", content_id=cid, job_name="content_job", state=JobState.RUNNING
    )
    assert jobs.of_content(cid)[0][2] == "completed"


# the outbox: runs the API asked for ---------------------------------------------------------


def test_a_request_is_pending_without_a_run_until_submitted(db: Database) -> None:
    ProjectRepository(db).ensure("news")
    ContentRepository(db).register_item(item(1))
    jobs = JobRepository(db)
    requested = jobs.request(
        item(1).id, "content_job", selection=["script", "video"], tags={"a": "b"}, requested_by="u"
    )
    assert (requested.state, requested.run_id, requested.selection) == (
        JobState.PENDING, None, ["script", "video"]
    )  # fmt: skip
    assert jobs.unsubmitted() == [requested.id]
    assert jobs.active(item(1).id) == requested
    assert jobs.mark_submitted(requested.id, "run-1")
    assert jobs.unsubmitted() == []
    assert jobs.get(requested.id).submit_attempts == 1
    # the run-status sensors then advance the same row
    jobs.record(
        run_id="run-1", content_id=item(1).id, job_name="content_job", state=JobState.RUNNING
    )
    assert [j.id for j in jobs.records(item(1).id)] == [requested.id]


def test_a_claim_holds_a_request_for_one_submitter_until_its_lease_ends(db: Database) -> None:
    ProjectRepository(db).ensure("news")
    ContentRepository(db).register_item(item(1))
    jobs = JobRepository(db)
    requested = jobs.request(item(1).id, "content_job")
    now = datetime.now(UTC)
    lease = timedelta(seconds=60)
    assert jobs.claim(requested.id, lease=lease, now=now) is not None
    assert jobs.claim(requested.id, lease=lease, now=now + timedelta(seconds=30)) is None
    assert jobs.unsubmitted(now=now + timedelta(seconds=30)) == []
    assert jobs.unsubmitted(now=now + timedelta(seconds=61)) == [requested.id]
    assert jobs.claim(requested.id, lease=lease, now=now + timedelta(seconds=61)) is not None


def test_a_refused_request_is_retried_then_failed_with_the_reason(db: Database) -> None:
    ProjectRepository(db).ensure("news")
    ContentRepository(db).register_item(item(1))
    jobs = JobRepository(db)
    requested = jobs.request(item(1).id, "content_job")
    jobs.mark_unsubmitted(requested.id, "Dagster down", give_up=False)
    waiting = jobs.get(requested.id)
    assert (waiting.state, waiting.submit_error, waiting.submit_attempts) == (
        JobState.PENDING, "Dagster down", 1
    )  # fmt: skip
    jobs.mark_unsubmitted(requested.id, "PipelineNotFoundError", give_up=True)
    failed = jobs.get(requested.id)
    assert failed.state == JobState.FAILED
    assert failed.error == "not submitted to Dagster: PipelineNotFoundError"
    assert jobs.active(item(1).id) is None
