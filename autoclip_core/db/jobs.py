"""Jobs: one row per Dagster run of a content item, advanced by the run-status sensors."""

from __future__ import annotations

from sqlalchemy import select

from autoclip_core.db.content import content_or_raise
from autoclip_core.db.engine import Repository
from autoclip_core.db.models import Job, utcnow
from autoclip_core.states import JobState, check_job_transition

JOB_ORDER = {JobState.PENDING: 0, JobState.RUNNING: 1, JobState.COMPLETED: 2, JobState.FAILED: 2}


class JobRepository(Repository):
    def record(
        self,
        *,
        run_id: str,
        content_id: str,
        job_name: str,
        state: JobState,
        error: str | None = None,
    ) -> bool:
        """Create or advance the job row of a Dagster run; True if its state changed.

        Run-status sensors may see a run's events out of order (a ``queued`` tick after the
        ``started`` one): a stale, earlier state is ignored, a missed one is filled in.
        """
        with self._session() as s:
            job = s.scalar(select(Job).where(Job.run_id == run_id))
            if job is None:
                job = Job(
                    run_id=run_id, content_id=content_id, job_name=job_name, state=JobState.PENDING
                )
                s.add(job)
                s.flush()
                if state == JobState.PENDING:
                    return True
            current = JobState(job.state)
            if JOB_ORDER[state] <= JOB_ORDER[current]:
                return False
            if current == JobState.PENDING and state != JobState.RUNNING:
                current = JobState.RUNNING  # the start event was missed
            check_job_transition(current, state)
            job.state = state
            job.started_at = job.started_at or utcnow()
            if state in (JobState.COMPLETED, JobState.FAILED):
                job.finished_at = utcnow()
                job.error = error
            return True

    def of_content(self, content_id: str) -> list[tuple[str, str, str, str | None]]:
        """(run id, job name, state, error) of the item's runs, oldest first."""
        with self._session() as s:
            return [
                (j.run_id, j.job_name, j.state, j.error)
                for j in content_or_raise(s, content_id).jobs
            ]
