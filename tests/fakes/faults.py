"""Faults a vendor's fake server can inject in front of its real routes: 429 with Retry-After,
503, a stall past the client's timeout, a reset connection, malformed JSON.

``with_faults(handler, [rate_limited(1), unavailable()])`` answers the first requests with the
faults, in order, then hands every later request to ``handler``::

    server.route("/v1/audio/speech", with_faults(speech, [unavailable(), reset()]))
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from tests.fakes.server import Handler, Reply, Request


def rate_limited(retry_after: float | str = 1, body: bytes = b"") -> Reply:
    """429 Too Many Requests; ``retry_after`` in seconds, or an HTTP-date string."""
    value = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
    return Reply(
        status=429,
        body=body or b'{"error": {"message": "rate limited", "code": 429}}',
        headers={"Retry-After": value, "Content-Type": "application/json"},
    )


def unavailable(status: int = 503) -> Reply:
    return Reply(
        status=status,
        body=b'{"error": {"message": "service unavailable"}}',
        headers={"Content-Type": "application/json"},
    )


def stall(seconds: float) -> Reply:
    """Nothing for ``seconds`` (longer than the client's timeout), then an empty 200."""
    return Reply(delay=seconds, body=b"{}", headers={"Content-Type": "application/json"})


def reset() -> Reply:
    return Reply(reset=True)


def malformed_json() -> Reply:
    return Reply(body=b'{"truncated": ', headers={"Content-Type": "application/json"})


def with_faults(handler: Handler, faults: Iterable[Reply]) -> Handler:
    """``handler``, after the ``faults`` have answered one request each."""
    pending = list(faults)
    lock = threading.Lock()

    def handle(request: Request) -> Reply:
        with lock:
            fault = pending.pop(0) if pending else None
        return fault if fault is not None else handler(request)

    return handle
