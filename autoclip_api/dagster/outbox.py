"""Runs the API asked for, submitted to Dagster: once each, and none lost.

A request is a ``jobs`` row committed before anything is sent (``autoclip_core.db.jobs``).
:meth:`RunSubmitter.submit` then claims it (a lease: of two API processes, one submits),
registers the item's partition, asks Dagster whether a run with the request's tag exists
already — a submission that reached Dagster just before a crash — and only otherwise submits
one; the run id is recorded on the row. A request is submitted right after its commit, and
every API process's background loop (:meth:`RunSubmitter.run_forever`) submits what is left:
requests made while Dagster was down, or by a process that died before submitting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from starlette.concurrency import run_in_threadpool

from autoclip_api.dagster.client import DagsterClient, DagsterRefused, DagsterUnavailable
from autoclip_core.db.engine import Database
from autoclip_core.db.jobs import JobRepository
from autoclip_core.db.models import utcnow
from autoclip_core.pipeline_names import CONTENT_PARTITIONS, PARTITION_TAG, REQUEST_TAG

logger = logging.getLogger("autoclip_api.dagster")

LEASE = timedelta(seconds=120)
"""How long a submitter holds a request: longer than a submission can take (the client's
timeouts), so a live submitter never loses its request to another."""
MAX_REFUSALS = 5
"""A request Dagster refuses this many times (unknown job, invalid selection...) fails."""


class Outcome(StrEnum):
    SUBMITTED = "submitted"
    FOUND = "found"
    """Dagster had a run with the request's tag already: it is recorded, none is started."""
    HELD = "held"
    """Submitted already, or another submitter holds it."""
    DEFERRED = "deferred"
    """Dagster is unreachable: the request waits."""
    REFUSED = "refused"


@dataclass
class RunSubmitter:
    database: Database
    dagster: DagsterClient
    lease: timedelta = LEASE

    def submit(self, job_id: str) -> Outcome:
        jobs = JobRepository(self.database)
        job = jobs.claim(job_id, lease=self.lease)
        if job is None:
            return Outcome.HELD
        tags = {**job.tags, PARTITION_TAG: job.content_id, REQUEST_TAG: job.id}
        try:
            self.dagster.add_partition(CONTENT_PARTITIONS, job.content_id)
            run_id = self.dagster.run_with_tag(REQUEST_TAG, job.id)
            outcome = Outcome.FOUND
            if run_id is None:
                run_id = self.dagster.submit(job.job_name, tags=tags, asset_selection=job.selection)
                outcome = Outcome.SUBMITTED
        except DagsterUnavailable as exc:
            jobs.mark_unsubmitted(job.id, str(exc), give_up=False)
            return Outcome.DEFERRED
        except DagsterRefused as exc:
            give_up = job.submit_attempts + 1 >= MAX_REFUSALS
            jobs.mark_unsubmitted(job.id, str(exc), give_up=give_up)
            logger.warning(
                "run request %s of %s refused by Dagster%s: %s",
                job.id,
                job.content_id,
                " (failed)" if give_up else "",
                exc,
            )
            return Outcome.REFUSED
        jobs.mark_submitted(job.id, run_id)
        logger.info(
            "run request %s of %s %s as run %s", job.id, job.content_id, outcome.value, run_id
        )
        return outcome

    def submit_pending(self, *, limit: int = 100) -> list[Outcome]:
        """Submit requests that have not reached Dagster, oldest first; stops at the first
        that finds Dagster unreachable (the rest would too)."""
        outcomes: list[Outcome] = []
        for job_id in JobRepository(self.database).unsubmitted(now=utcnow(), limit=limit):
            outcome = self.submit(job_id)
            outcomes.append(outcome)
            if outcome == Outcome.DEFERRED:
                break
        return outcomes

    async def run_forever(self, interval_seconds: float) -> None:
        """Submit what is left every ``interval_seconds``, until cancelled."""
        while True:
            try:
                await run_in_threadpool(self.submit_pending)
            except Exception:  # the loop outlives a database hiccup; the next round retries
                logger.exception("submitting pending run requests failed")
            await asyncio.sleep(interval_seconds)


@asynccontextmanager
async def submitting_in_background(
    submitter: RunSubmitter, interval_seconds: float
) -> AsyncIterator[None]:
    """While the app serves: the background loop (none when ``interval_seconds`` is 0)."""
    if interval_seconds <= 0:
        yield
        return
    task = asyncio.create_task(submitter.run_forever(interval_seconds))
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
