"""How pipeline steps retry: the policy, and provider errors mapped onto it in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from resources.errors import ProviderError

RETRY = dg.RetryPolicy(max_retries=3, delay=0.5, backoff=dg.Backoff.EXPONENTIAL)
"""Transient failures (provider hiccups) are retried 3 times: 0.5 s, 1.5 s, 3.5 s."""


def dagster_error(error: ProviderError, retry_number: int) -> dg.RetryRequested | dg.Failure:
    """A retryable error asks for another attempt after the provider's ``retry_after`` (else
    the policy's back-off); any other fails the step at once, naming the capability."""
    if error.retryable:
        wait = error.retry_after
        if wait is None:
            wait = RETRY.calculate_delay(retry_number + 1)
        return dg.RetryRequested(max_retries=RETRY.max_retries, seconds_to_wait=wait)
    return dg.Failure(description=f"{error.capability}: {error}", allow_retries=False)


@contextmanager
def provider_call(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> Iterator[None]:
    """Run provider calls; a ``ProviderError`` becomes the step's retry or failure."""
    try:
        yield
    except ProviderError as error:
        raise dagster_error(error, context.retry_number) from error
