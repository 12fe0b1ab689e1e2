"""Provider errors become Dagster retries or failures in one place (``provider_call``)."""

import dagster as dg
import pytest
from dagster import DagsterEventType

from autoclip_assets.retries import RETRY, dagster_error, provider_call
from resources.errors import ProviderError, PublishError, TTSError


def flaky_asset(errors: list[ProviderError]) -> dg.AssetsDefinition:
    """An asset whose provider call raises ``errors`` in turn, then succeeds."""
    remaining = list(errors)

    @dg.asset(retry_policy=RETRY)
    def spoken(context: dg.AssetExecutionContext) -> str:
        with provider_call(context):
            if remaining:
                raise remaining.pop(0)
        return "ok"

    return spoken


def run(asset: dg.AssetsDefinition) -> dg.ExecuteInProcessResult:
    return dg.materialize([asset], raise_on_error=False)


def events(result: dg.ExecuteInProcessResult, kind: DagsterEventType) -> list[dg.DagsterEvent]:
    return [e for e in result.all_events if e.event_type == kind]


def test_a_retryable_error_is_retried_after_the_providers_retry_after() -> None:
    result = run(flaky_asset([TTSError("rate limited", retryable=True, retry_after=0.05)]))
    assert result.success
    [retry] = events(result, DagsterEventType.STEP_UP_FOR_RETRY)
    assert retry.event_specific_data.seconds_to_wait == 0.05
    assert "rate limited" in str(retry.event_specific_data.error)


def test_without_retry_after_the_policys_back_off_is_used() -> None:
    result = run(flaky_asset([TTSError("timed out", retryable=True)]))
    assert result.success
    [retry] = events(result, DagsterEventType.STEP_UP_FOR_RETRY)
    assert retry.event_specific_data.seconds_to_wait == RETRY.calculate_delay(1) == 0.5
    second = dagster_error(TTSError("timed out", retryable=True), retry_number=1)
    assert isinstance(second, dg.RetryRequested)
    assert second.seconds_to_wait == RETRY.calculate_delay(2)


def test_a_retryable_error_that_persists_fails_after_the_policys_retries() -> None:
    always = [PublishError("503", retryable=True, retry_after=0.01)] * (RETRY.max_retries + 1)
    result = run(flaky_asset(always))
    assert not result.success
    assert len(events(result, DagsterEventType.STEP_UP_FOR_RETRY)) == RETRY.max_retries


def test_a_final_error_fails_at_once_with_the_capability_and_message() -> None:
    result = run(flaky_asset([PublishError("channel 'x' does not exist")]))
    assert not result.success
    assert not events(result, DagsterEventType.STEP_UP_FOR_RETRY)
    [failure] = events(result, DagsterEventType.STEP_FAILURE)
    description = failure.step_failure_data.user_failure_data.description
    assert description == "publisher: channel 'x' does not exist"


def test_a_negative_retry_after_is_refused() -> None:
    with pytest.raises(ValueError, match="retry_after"):
        TTSError("x", retryable=True, retry_after=-1)
