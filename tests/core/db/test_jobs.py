from __future__ import annotations

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
