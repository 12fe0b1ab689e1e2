"""One way to call a vendor over HTTP: bounded exponential back-off with jitter on what may pass
(429, 500/502/503/504, timeouts, resets), an immediate failure on what will not (other 4xx), and
the vendor's own message in the error, with the API key scrubbed from it.

``retrying`` is the loop itself, for providers that call through a vendor's SDK: they map the
SDK's exceptions to a ``ProviderError`` and get the same policy.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
import httpx2

from resources.errors import ProviderError
from resources.vendors.ratelimit import RateLimiter

T = TypeVar("T")
E = TypeVar("E", bound=ProviderError)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_MESSAGE_CHARS = 500
TIMEOUTS = (httpx.TimeoutException, httpx2.TimeoutException)
TRANSPORT_ERRORS = (httpx.TransportError, httpx2.TransportError)
"""Some SDKs (google-genai) send through httpx2, a fork of httpx with its own classes."""


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` calls at most; the n-th wait is ``base * 2**n`` seconds capped at ``cap``,
    half of it random (so parallel workers do not retry in step). A ``Retry-After`` longer than
    ``cap`` is not waited for here: the error carries it, for the run's own retry."""

    attempts: int = 3
    base: float = 0.5
    cap: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base < 0 or self.cap < 0:
            raise ValueError(f"invalid retry policy {self}")

    def backoff(self, retry: int, rng: Callable[[], float]) -> float:
        ceiling = min(self.cap, self.base * 2**retry)
        return ceiling / 2 + rng() * ceiling / 2


def retrying(
    call: Callable[[], T],
    *,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
) -> T:
    """``call()`` until it returns, raises a non-retryable ``ProviderError``, or the attempts
    run out (then its last error is raised as it was)."""
    for attempt in range(policy.attempts):
        try:
            return call()
        except ProviderError as error:
            last_attempt = attempt == policy.attempts - 1
            if not error.retryable or last_attempt:
                raise
            if error.retry_after is not None and error.retry_after > policy.cap:
                raise
            wait = policy.backoff(attempt, rng)
            if error.retry_after is not None:
                wait = max(wait, error.retry_after)
            sleep(wait)
    raise AssertionError("unreachable: the last attempt returns or raises")


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """An HTTP ``Retry-After`` (delay-seconds or an HTTP-date) as seconds from ``now``."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def error_text(response: httpx.Response) -> str:
    """The body of an error response, shortened: for vendors without a structured error."""
    return response.text[:MAX_MESSAGE_CHARS].strip() or response.reason_phrase


class VendorClient:
    """An ``httpx.Client`` for one vendor with the retry policy, its rate limit and its secrets
    (never shown in an error). ``sleep`` and ``rng`` are there for tests."""

    def __init__(
        self,
        vendor: str,
        *,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        secrets: Iterable[str] = (),
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.vendor = vendor
        self.policy = policy or RetryPolicy()
        self.limiter = limiter
        self.secrets = tuple(s for s in secrets if s)
        self.sleep = sleep
        self.rng = rng
        self.http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def __enter__(self) -> VendorClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def send(
        self,
        request: httpx.Request,
        *,
        error: type[ProviderError],
        parse_error: Callable[[httpx.Response], str] = error_text,
    ) -> httpx.Response:
        """The vendor's 2xx answer to ``request`` (its body read), retried per the policy."""
        return retrying(
            lambda: self._once(request, error, parse_error),
            policy=self.policy,
            sleep=self.sleep,
            rng=self.rng,
        )

    def send_json(
        self,
        request: httpx.Request,
        *,
        error: type[ProviderError],
        parse_error: Callable[[httpx.Response], str] = error_text,
    ) -> Any:
        """The decoded JSON of the 2xx answer; a body that is not JSON counts as a passing fault
        (a proxy's or a truncated page) and is retried like a 503."""

        def once() -> Any:
            response = self._once(request, error, parse_error)
            try:
                return response.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise unreadable_error(error, self.vendor, response.status_code) from None

        return retrying(once, policy=self.policy, sleep=self.sleep, rng=self.rng)

    def _once(
        self,
        request: httpx.Request,
        error: type[ProviderError],
        parse_error: Callable[[httpx.Response], str],
    ) -> httpx.Response:
        if self.limiter is not None:
            self.limiter.acquire()
        try:
            response = self.http.send(request)
            response.read()
        except httpx.TransportError as exc:
            raise transport_error(error, self.vendor, exc) from None
        if response.is_success:
            return response
        try:
            detail = parse_error(response)
        except Exception:  # a vendor's malformed error body must not hide its status
            detail = error_text(response)
        raise status_error(
            error,
            self.vendor,
            response.status_code,
            detail,
            retry_after=response.headers.get("retry-after"),
            secrets=self.secrets,
        )


def status_error(
    error: type[E],
    vendor: str,
    status: int,
    detail: str,
    *,
    retry_after: str | None = None,
    secrets: Iterable[str] = (),
) -> E:
    """A vendor's HTTP error as the capability's error: 429 and 5xx may pass (``retry_after``
    is the raw ``Retry-After`` header), anything else will not. For SDKs that raise their own
    exception with the status: the same policy as ``VendorClient``."""
    message = redact(f"{vendor}: HTTP {status}: {detail}", secrets)[:MAX_MESSAGE_CHARS]
    if status in RETRYABLE_STATUS:
        return error(message, retryable=True, retry_after=retry_after_seconds(retry_after))
    return error(message, retryable=False)


def transport_error(error: type[E], vendor: str, exc: Exception) -> E:
    """A timeout or a failed connection (refused, reset, cut short) as a retryable error."""
    what = "timed out" if isinstance(exc, TIMEOUTS) else "connection failed"
    return error(f"{vendor}: {what} ({type(exc).__name__})", retryable=True)


def unreadable_error(error: type[E], vendor: str, status: int | None = None) -> E:
    """A successful status with a body that cannot be read (a proxy's page, a truncated
    answer): a passing fault, retried like a 503."""
    what = f"HTTP {status} with a body that is not JSON" if status else "an answer that is not JSON"
    return error(f"{vendor}: {what}", retryable=True)
