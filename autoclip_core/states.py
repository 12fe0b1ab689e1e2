"""Content and job state machines: the one place that says which state may follow which.

Content: draft → processing → ready → published; processing → failed; a failed upload of a
ready item → failed_upload (→ published when a retry succeeds); a ready, published or failed
item may be generated again (→ processing); a reviewer's rejection sends a ready item back to
draft. Jobs: pending → running → completed | failed.
"""

from __future__ import annotations

from enum import StrEnum


class ContentState(StrEnum):
    DRAFT = "draft"
    PROCESSING = "processing"
    READY = "ready"
    PUBLISHED = "published"
    FAILED = "failed"
    FAILED_UPLOAD = "failed_upload"


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class InvalidTransitionError(ValueError):
    def __init__(self, kind: str, current: str, target: str) -> None:
        super().__init__(f"{kind} cannot go from {current!r} to {target!r}")
        self.current = current
        self.target = target


CONTENT_TRANSITIONS: dict[ContentState, frozenset[ContentState]] = {
    ContentState.DRAFT: frozenset({ContentState.PROCESSING}),
    ContentState.PROCESSING: frozenset({ContentState.READY, ContentState.FAILED}),
    ContentState.READY: frozenset(
        {
            ContentState.PUBLISHED,
            ContentState.FAILED_UPLOAD,
            ContentState.PROCESSING,
            ContentState.DRAFT,
        }
    ),
    ContentState.PUBLISHED: frozenset({ContentState.PROCESSING}),
    ContentState.FAILED: frozenset({ContentState.PROCESSING}),
    ContentState.FAILED_UPLOAD: frozenset({ContentState.PUBLISHED, ContentState.PROCESSING}),
}

JOB_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.PENDING: frozenset({JobState.RUNNING, JobState.FAILED}),
    JobState.RUNNING: frozenset({JobState.COMPLETED, JobState.FAILED}),
    JobState.COMPLETED: frozenset(),
    JobState.FAILED: frozenset(),
}


def check_content_transition(current: ContentState, target: ContentState) -> None:
    if target not in CONTENT_TRANSITIONS[current]:
        raise InvalidTransitionError("content", current, target)


def check_job_transition(current: JobState, target: JobState) -> None:
    if target not in JOB_TRANSITIONS[current]:
        raise InvalidTransitionError("job", current, target)
