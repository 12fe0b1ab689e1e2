"""Pure ASGI middleware: security headers, request-size limit, request log + metrics + 500s."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autoclip_api.core.metrics import Metrics

logger = logging.getLogger("autoclip_api.requests")

MAX_BODY_BYTES = 1024 * 1024  # 1 MiB

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
    "connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'"
)

_COMMON_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
)


def _json_response(
    status: int, detail: str, headers: Iterable[tuple[bytes, bytes]] = ()
) -> tuple[Message, Message]:
    body = json.dumps({"detail": detail}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class SecurityHeadersMiddleware:
    """Adds the security headers to every response (errors and CORS preflights included)."""

    def __init__(self, app: ASGIApp, docs_path: str = "/docs") -> None:
        self.app = app
        self.docs_path = docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] == self.docs_path else API_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in _COMMON_HEADERS if h[0] not in present)
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp.encode()))
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413, never buffering them.

    A declared ``Content-Length`` over the limit is answered at once, before a byte of the body
    is received. A body without one (chunked) is counted as it streams in and refused at the
    first chunk past the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.detail = f"Request body over {max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_json(send, 400, "Invalid Content-Length header")
                    return
                if declared > self.max_bytes:
                    await _send_json(send, 413, self.detail, [(b"connection", b"close")])
                    return
                break
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises HTTPExceptions from body reading: a JSON 413 follows.
                    raise HTTPException(413, self.detail)
            return message

        await self.app(scope, counting_receive, send)


async def _send_json(
    send: Send, status: int, detail: str, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    start, body = _json_response(status, detail, headers)
    await send(start)
    await send(body)


class ObservabilityMiddleware:
    """One log line and one metrics sample per request; unexpected errors become a bare 500.

    The log line names the route template (``/api/v1/projects/{project_id}``), never the query
    string or a header, so no credential can reach it.
    """

    def __init__(
        self, app: ASGIApp, metrics: Metrics, templates: Callable[[object], str] | None = None
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates or (lambda route: getattr(route, "path", "<unmatched>"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_tracking(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            logger.exception("unhandled error on %s %s", scope["method"], self._route(scope))
            status = 500
            if not response_started:
                start, body = _json_response(500, "Internal server error")
                await send(start)
                await send(body)
        finally:
            elapsed = time.perf_counter() - started
            route = self._route(scope)
            self.metrics.observe(scope["method"], route, status, elapsed)
            if logger.isEnabledFor(logging.INFO):
                state = scope.get("state") or {}
                logger.info(
                    "%s %s %d %.1fms user=%s",
                    scope["method"],
                    route,
                    status,
                    elapsed * 1000,
                    state.get("user_id", "-"),
                )

    def _route(self, scope: Scope) -> str:
        route = scope.get("route")
        return "<unmatched>" if route is None else self.templates(route)
