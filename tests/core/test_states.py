import pytest

from autoclip_core.states import (
    ContentState,
    InvalidTransitionError,
    JobState,
    check_content_transition,
    check_job_transition,
)

LIFECYCLE = [
    (ContentState.DRAFT, ContentState.PROCESSING),
    (ContentState.PROCESSING, ContentState.READY),
    (ContentState.READY, ContentState.PUBLISHED),
    (ContentState.PROCESSING, ContentState.FAILED),
    (ContentState.READY, ContentState.FAILED_UPLOAD),
]


@pytest.mark.parametrize(("current", "target"), LIFECYCLE)
def test_the_content_lifecycle_transitions_are_allowed(
    current: ContentState, target: ContentState
) -> None:
    check_content_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (ContentState.DRAFT, ContentState.PUBLISHED),
        (ContentState.DRAFT, ContentState.READY),
        (ContentState.PROCESSING, ContentState.PUBLISHED),
        (ContentState.FAILED, ContentState.PUBLISHED),
    ],
)
def test_skipping_states_is_refused(current: ContentState, target: ContentState) -> None:
    with pytest.raises(InvalidTransitionError, match="cannot go from"):
        check_content_transition(current, target)


def test_job_states_follow_pending_running_then_completed_or_failed() -> None:
    check_job_transition(JobState.PENDING, JobState.RUNNING)
    check_job_transition(JobState.RUNNING, JobState.COMPLETED)
    check_job_transition(JobState.RUNNING, JobState.FAILED)
    with pytest.raises(InvalidTransitionError):
        check_job_transition(JobState.COMPLETED, JobState.RUNNING)
