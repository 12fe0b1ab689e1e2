from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import ClassVar

import httpx
import httpx2
import pytest

from resources.errors import TTSError
from resources.vendors.base import VendorResource
from resources.vendors.http import (
    RetryPolicy,
    VendorClient,
    retry_after_seconds,
    retrying,
    status_error,
    transport_error,
    unreadable_error,
)
from resources.vendors.ratelimit import TokenBucket
from tests.fakes.faults import malformed_json, rate_limited, reset, stall, unavailable, with_faults
from tests.fakes.server import FakeServer, Reply, Request

KEY = "sk-test-0123456789"


def ok(_request: Request) -> Reply:
    return Reply(body=b'{"ok": true}', headers={"Content-Type": "application/json"})


@pytest.fixture
def server() -> Iterator[FakeServer]:
    srv = FakeServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(waits: list[float]) -> Iterator[VendorClient]:
    # rng 0.0: the back-off is its lower bound, half the exponential ceiling.
    with VendorClient("acme", timeout=0.5, secrets=[KEY], sleep=waits.append, rng=lambda: 0.0) as c:
        yield c


def post(server: FakeServer, path: str = "/v1/x") -> httpx.Request:
    return httpx.Request(
        "POST", server.url(path), json={"a": 1}, headers={"Authorization": f"Bearer {KEY}"}
    )


def test_503_then_success_retries_with_exponential_backoff(
    server: FakeServer, client: VendorClient, waits: list[float]
) -> None:
    server.route("/v1/x", with_faults(ok, [unavailable(), unavailable(502)]))
    assert client.send_json(post(server), error=TTSError) == {"ok": True}
    assert len(server.hits("/v1/x")) == 3
    assert waits == [0.25, 0.5]


def test_retry_after_seconds_is_honoured(
    server: FakeServer, client: VendorClient, waits: list[float]
) -> None:
    server.route("/v1/x", with_faults(ok, [rate_limited(3)]))
    assert client.send(post(server), error=TTSError).status_code == 200
    assert waits == [3.0]


def test_retry_after_http_date_is_honoured() -> None:
    now = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=4), usegmt=True)
    assert retry_after_seconds(header, now=now) == 4.0
    assert retry_after_seconds("2", now=now) == 2.0
    assert retry_after_seconds("soon", now=now) is None
    assert (
        retry_after_seconds(format_datetime(now - timedelta(seconds=9), usegmt=True), now=now) == 0
    )


def test_retries_are_bounded_and_the_last_error_is_retryable(
    server: FakeServer, client: VendorClient, waits: list[float]
) -> None:
    server.route("/v1/x", with_faults(ok, [unavailable()] * 5))
    with pytest.raises(TTSError) as caught:
        client.send(post(server), error=TTSError)
    assert len(server.hits("/v1/x")) == 3
    assert caught.value.retryable
    assert "HTTP 503" in str(caught.value)
    assert len(waits) == 2


def test_retry_after_beyond_the_cap_is_left_to_the_run(
    server: FakeServer, client: VendorClient, waits: list[float]
) -> None:
    server.route("/v1/x", with_faults(ok, [rate_limited(60)]))
    with pytest.raises(TTSError) as caught:
        client.send(post(server), error=TTSError)
    assert caught.value.retryable
    assert caught.value.retry_after == 60
    assert waits == []
    assert len(server.hits("/v1/x")) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 402])
def test_client_errors_fail_at_once_with_the_vendors_message(
    server: FakeServer, client: VendorClient, waits: list[float], status: int
) -> None:
    body = json.dumps({"error": {"message": f"bad key {KEY}", "code": status}}).encode()
    server.route("/v1/x", Reply(status=status, body=body))

    def parse(response: httpx.Response) -> str:
        return str(response.json()["error"]["message"])

    with pytest.raises(TTSError) as caught:
        client.send(post(server), error=TTSError, parse_error=parse)
    assert not caught.value.retryable
    assert str(caught.value) == f"acme: HTTP {status}: bad key [redacted]"
    assert KEY not in str(caught.value)
    assert len(server.hits("/v1/x")) == 1
    assert waits == []


def test_an_unparseable_error_body_still_names_the_status(
    server: FakeServer, client: VendorClient
) -> None:
    server.route("/v1/x", Reply(status=400, body=b"<html>nope</html>"))

    def parse(response: httpx.Response) -> str:
        return str(response.json()["error"])

    with pytest.raises(TTSError, match=r"HTTP 400: <html>nope</html>"):
        client.send(post(server), error=TTSError, parse_error=parse)


def test_a_stall_past_the_timeout_is_retried(
    server: FakeServer, client: VendorClient, waits: list[float]
) -> None:
    server.route("/v1/x", with_faults(ok, [stall(1.5)]))
    assert client.send_json(post(server), error=TTSError) == {"ok": True}
    assert len(waits) == 1


def test_a_reset_connection_is_retried(
    server: FakeServer, client: VendorClient, waits: list[float]
) -> None:
    server.route("/v1/x", with_faults(ok, [reset(), reset()]))
    assert client.send_json(post(server), error=TTSError) == {"ok": True}
    assert len(waits) == 2


def test_resets_that_never_stop_end_in_a_retryable_error(
    server: FakeServer, client: VendorClient
) -> None:
    server.route("/v1/x", lambda _r: reset())
    with pytest.raises(TTSError, match="connection failed") as caught:
        client.send(post(server), error=TTSError)
    assert caught.value.retryable


def test_malformed_json_is_retried(
    server: FakeServer, client: VendorClient, waits: list[float]
) -> None:
    server.route("/v1/x", with_faults(ok, [malformed_json()]))
    assert client.send_json(post(server), error=TTSError) == {"ok": True}
    assert len(server.hits("/v1/x")) == 2


def test_backoff_is_capped_and_jittered() -> None:
    policy = RetryPolicy(attempts=10, base=0.5, cap=8.0)
    assert policy.backoff(0, lambda: 0.0) == 0.25
    assert policy.backoff(0, lambda: 1.0) == 0.5
    assert policy.backoff(9, lambda: 1.0) == 8.0
    assert policy.backoff(9, lambda: 0.0) == 4.0


def test_retrying_does_not_swallow_other_exceptions() -> None:
    calls: list[int] = []

    def boom() -> None:
        calls.append(1)
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        retrying(boom, sleep=lambda _s: None)
    assert calls == [1]


def test_the_rate_limiter_is_asked_before_every_attempt(server: FakeServer) -> None:
    asked: list[int] = []

    class Counting:
        def acquire(self) -> None:
            asked.append(1)

    server.route("/v1/x", with_faults(ok, [unavailable()]))
    with VendorClient("acme", limiter=Counting(), sleep=lambda _s: None) as c:
        c.send(post(server), error=TTSError)
    assert len(asked) == 2


def test_status_errors_for_sdks_follow_the_same_policy() -> None:
    limited = status_error(TTSError, "acme", 429, "slow down", retry_after="7", secrets=[KEY])
    assert (limited.retryable, limited.retry_after) == (True, 7.0)
    refused = status_error(TTSError, "acme", 422, f"key {KEY} lacks access", secrets=[KEY])
    assert not refused.retryable
    assert str(refused) == "acme: HTTP 422: key [redacted] lacks access"
    assert len(str(status_error(TTSError, "acme", 500, "x" * 5000))) == 500


def test_transport_errors_are_retryable_and_say_what_happened() -> None:
    timeout = transport_error(TTSError, "acme", httpx.ReadTimeout("slow"))
    assert (str(timeout), timeout.retryable) == ("acme: timed out (ReadTimeout)", True)
    refused = transport_error(TTSError, "acme", httpx.ConnectError("refused"))
    assert str(refused) == "acme: connection failed (ConnectError)"


def test_an_sdk_on_httpx2_gets_the_same_transport_errors() -> None:
    timeout = transport_error(TTSError, "acme", httpx2.ReadTimeout("slow"))
    assert (str(timeout), timeout.retryable) == ("acme: timed out (ReadTimeout)", True)
    reset = transport_error(TTSError, "acme", httpx2.RemoteProtocolError("cut short"))
    assert str(reset) == "acme: connection failed (RemoteProtocolError)"


def test_an_unreadable_answer_is_a_passing_fault() -> None:
    with_status = unreadable_error(TTSError, "acme", 200)
    assert (str(with_status), with_status.retryable) == (
        "acme: HTTP 200 with a body that is not JSON",
        True,
    )
    assert str(unreadable_error(TTSError, "acme")) == "acme: an answer that is not JSON"


def test_a_vendor_resource_builds_its_client_cache_and_limit(tmp_path: Path) -> None:
    class Acme(VendorResource):
        vendor: ClassVar[str] = "gemini"

    acme = Acme(base_url="http://127.0.0.1:9", api_key=KEY, cache_dir=str(tmp_path),
                attempts=5, requests_per_minute={"gemini": 30})  # fmt: skip
    with acme.vendor_client() as client:
        assert client.secrets == (KEY,)
        assert client.policy.attempts == 5
        assert isinstance(client.limiter, TokenBucket)
        assert client.limiter.rate == 0.5
    assert acme.answer_cache().root == tmp_path
