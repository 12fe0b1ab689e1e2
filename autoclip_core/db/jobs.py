"""Jobs: one row per Dagster run of a content item — and, before the run exists, the request.

A run the API asks for is an outbox row: committed with ``run_id`` NULL (:meth:`request`),
then submitted by whoever :meth:`claim`\\ s it first, tagged with the row's id, and marked with
the run id it got (:meth:`mark_submitted`). A crash between the commit and the submission
leaves the row for the next claim; the tag lets that claim find a run submitted just before
a crash, so nothing is lost and nothing is started twice. Runs started inside Dagster
(sensors, schedules) get their row when the run-status sensors first see them
(:meth:`record`), which also links a submitted run to its request by that tag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from autoclip_core.db.content import content_or_raise
from autoclip_core.db.engine import Repository, aware
from autoclip_core.db.models import Job, utcnow
from autoclip_core.states import JobState, check_job_transition

JOB_ORDER = {JobState.PENDING: 0, JobState.RUNNING: 1, JobState.COMPLETED: 2, JobState.FAILED: 2}
ACTIVE_STATES = (JobState.PENDING, JobState.RUNNING)

StepState = Literal["running", "succeeded", "failed", "skipped"]


class UnknownJobError(LookupError):
    pass


@dataclass(frozen=True)
class StepRecord:
    """One step of a run (an asset or an asset check): how it went, when, in how many tries."""

    key: str
    state: StepState
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    error: str | None = None
    materialized: bool = False
    """Whether the step stored its asset (``publication`` awaiting approval stores none)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "state": self.state,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "attempts": self.attempts,
            "error": self.error,
            "materialized": self.materialized,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepRecord:
        return cls(
            key=data["key"],
            state=data["state"],
            started_at=_time(data.get("started_at")),
            finished_at=_time(data.get("finished_at")),
            attempts=int(data.get("attempts") or 0),
            error=data.get("error"),
            materialized=bool(data.get("materialized")),
        )


@dataclass(frozen=True)
class CheckRecord:
    """An asset check's verdict in a run (the safety checks)."""

    name: str
    asset: str
    passed: bool
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "asset": self.asset,
            "passed": self.passed,
            "description": self.description,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckRecord:
        return cls(data["name"], data["asset"], bool(data["passed"]), data.get("description"))


@dataclass(frozen=True)
class JobRecord:
    id: str
    content_id: str
    run_id: str | None
    job_name: str
    state: JobState
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    requested_by: str | None
    selection: list[str] | None
    tags: dict[str, str]
    submitted_at: datetime | None
    submit_attempts: int
    submit_error: str | None
    attempts: int
    steps: list[StepRecord] = field(default_factory=list)
    checks: list[CheckRecord] = field(default_factory=list)

    @classmethod
    def of(cls, j: Job) -> JobRecord:
        return cls(
            id=j.id,
            content_id=j.content_id,
            run_id=j.run_id,
            job_name=j.job_name,
            state=JobState(j.state),
            error=j.error,
            created_at=aware(j.created_at),
            started_at=aware(j.started_at),
            finished_at=aware(j.finished_at),
            requested_by=j.requested_by,
            selection=None if j.selection is None else list(j.selection),
            tags=dict(j.tags or {}),
            submitted_at=aware(j.submitted_at),
            submit_attempts=j.submit_attempts or 0,
            submit_error=j.submit_error,
            attempts=j.attempts or 0,
            steps=[StepRecord.from_json(step) for step in j.steps or ()],
            checks=[CheckRecord.from_json(check) for check in j.checks or ()],
        )

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


class JobRepository(Repository):
    # runs as the run-status sensors see them -------------------------------------------------

    def record(
        self,
        *,
        run_id: str,
        content_id: str,
        job_name: str,
        state: JobState,
        error: str | None = None,
        request_id: str | None = None,
    ) -> bool:
        """Create or advance the job row of a Dagster run; True if its state changed.

        ``request_id`` (the run's request tag) links a run the API submitted to its request's
        row, even before the submitter recorded the run id. Run-status sensors may see a run's
        events out of order (a ``queued`` tick after the ``started`` one): a stale, earlier
        state is ignored, a missed one is filled in.
        """
        with self._session() as s:
            job = self._of_run(s, run_id, content_id, request_id)
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

    @staticmethod
    def _of_run(s: Session, run_id: str, content_id: str, request_id: str | None) -> Job | None:
        job = s.scalar(select(Job).where(Job.run_id == run_id))
        if job is not None or request_id is None:
            return job
        requested = s.get(Job, request_id)
        if requested is None or requested.content_id != content_id:
            return None
        if requested.run_id is None:
            requested.run_id = run_id
            requested.submitted_at = requested.submitted_at or utcnow()
            requested.lease_until = None
            return requested
        return None  # the request got another run: this one is a stranger

    def record_details(
        self,
        run_id: str,
        steps: Sequence[StepRecord],
        checks: Sequence[CheckRecord],
    ) -> None:
        """What each step of the run did, and the checks' verdicts (replacing earlier ones)."""
        with self._session() as s:
            job = s.scalar(select(Job).where(Job.run_id == run_id))
            if job is None:
                raise UnknownJobError(f"no job of run {run_id!r}")
            job.steps = [step.to_json() for step in steps]
            job.checks = [check.to_json() for check in checks]
            job.attempts = max((step.attempts for step in steps), default=0)

    # the outbox: runs the API asked for --------------------------------------------------------

    def request(
        self,
        content_id: str,
        job_name: str,
        *,
        selection: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        requested_by: str | None = None,
    ) -> JobRecord:
        """A run to submit, committed with the caller's transaction (``pending``, no run)."""
        with self._session() as s:
            content_or_raise(s, content_id)
            job = Job(
                content_id=content_id,
                job_name=job_name,
                state=JobState.PENDING,
                selection=None if selection is None else list(selection),
                tags=dict(tags or {}),
                requested_by=requested_by,
                created_at=utcnow(),
                submit_attempts=0,
                attempts=0,
                steps=[],
                checks=[],
            )
            s.add(job)
            s.flush()
            return JobRecord.of(job)

    def unsubmitted(self, *, now: datetime | None = None, limit: int = 100) -> list[str]:
        """Ids of requests not yet submitted that nobody holds, oldest first."""
        now = now or utcnow()
        with self._session() as s:
            return list(
                s.scalars(
                    select(Job.id)
                    .where(*self._claimable(now))
                    .order_by(Job.created_at, Job.id)
                    .limit(limit)
                )
            )

    def claim(
        self, job_id: str, *, lease: timedelta, now: datetime | None = None
    ) -> JobRecord | None:
        """Hold an unsubmitted request for ``lease`` (None: submitted already, or another
        submitter holds it). Atomic: of two submitters, one gets it."""
        now = now or utcnow()
        with self._session() as s:
            held = s.execute(
                update(Job)
                .where(Job.id == job_id, *self._claimable(now))
                .values(lease_until=now + lease)
                .execution_options(synchronize_session=False)
            )
            if held.rowcount != 1:  # type: ignore[attr-defined]
                return None
            job = s.get(Job, job_id, populate_existing=True)
            return None if job is None else JobRecord.of(job)

    @staticmethod
    def _claimable(now: datetime) -> tuple[Any, ...]:
        return (
            Job.run_id.is_(None),
            Job.state == JobState.PENDING,
            or_(Job.lease_until.is_(None), Job.lease_until < now),
        )

    def mark_submitted(self, job_id: str, run_id: str) -> bool:
        """The request reached Dagster as ``run_id``; False if it is known under another run
        already (it was linked by its tag to a run recorded first)."""
        with self._session() as s:
            job = self._get(s, job_id)
            if job.run_id not in (None, run_id):
                return False
            job.run_id = run_id
            job.submitted_at = job.submitted_at or utcnow()
            job.submit_attempts = (job.submit_attempts or 0) + 1
            job.submit_error = None
            job.lease_until = None
            return True

    def mark_unsubmitted(self, job_id: str, error: str, *, give_up: bool) -> None:
        """A submission that failed: tried again later, or (``give_up``) the job fails."""
        with self._session() as s:
            job = self._get(s, job_id)
            if job.run_id is not None:
                return
            job.submit_attempts = (job.submit_attempts or 0) + 1
            job.submit_error = error
            job.lease_until = None
            if give_up and JobState(job.state) == JobState.PENDING:
                job.state = JobState.FAILED
                job.error = f"not submitted to Dagster: {error}"
                job.finished_at = utcnow()

    # reading ------------------------------------------------------------------------------------

    def get(self, job_id: str) -> JobRecord:
        with self._session() as s:
            return JobRecord.of(self._get(s, job_id))

    def records(self, content_id: str) -> list[JobRecord]:
        """The item's jobs, newest first."""
        with self._session() as s:
            rows = s.scalars(
                select(Job)
                .where(Job.content_id == content_id)
                .order_by(Job.created_at.desc(), Job.id.desc())
            )
            return [JobRecord.of(j) for j in rows]

    def active(self, content_id: str) -> JobRecord | None:
        """The item's newest job still pending or running, if any."""
        with self._session() as s:
            job = s.scalar(
                select(Job)
                .where(Job.content_id == content_id, Job.state.in_(ACTIVE_STATES))
                .order_by(Job.created_at.desc())
                .limit(1)
            )
            return None if job is None else JobRecord.of(job)

    def of_content(self, content_id: str) -> list[tuple[str | None, str, str, str | None]]:
        """(run id, job name, state, error) of the item's runs, oldest first."""
        return [
            (j.run_id, j.job_name, j.state, j.error) for j in reversed(self.records(content_id))
        ]

    @staticmethod
    def _get(s: Session, job_id: str) -> Job:
        job = s.get(Job, job_id)
        if job is None:
            raise UnknownJobError(f"no job {job_id!r}")
        return job


def _iso(value: datetime | None) -> str | None:
    return None if value is None else aware(value).isoformat()


def _time(value: str | None) -> datetime | None:
    return None if value is None else aware(datetime.fromisoformat(value))
