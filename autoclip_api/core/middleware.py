"""Pure ASGI middleware: security headers, request-size limit, CORS, request log + metrics +
500s."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import anyio
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autoclip_api.core.metrics import Metrics
from autoclip_api.core.responses import problem_response

logger = logging.getLogger("autoclip_api.requests")

MAX_BODY_BYTES = 1024 * 1024  # 1 MiB
# What the server reads and discards of a refused body before it closes the connection.
DRAIN_MAX_BYTES = 8 * MAX_BODY_BYTES
DRAIN_MAX_SECONDS = 10.0

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
    first chunk past the limit. Either way the connection closes after the answer, and before
    it does, the rest of the body is read and discarded (at most ``drain_bytes``, for at most
    ``drain_seconds``): closing a socket that still holds unread bytes resets the connection,
    and a client that sends its whole body before reading (``urllib``) would see a broken pipe
    instead of the 413 it was sent.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        drain_bytes: int = DRAIN_MAX_BYTES,
        drain_seconds: float = DRAIN_MAX_SECONDS,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.drain_bytes = drain_bytes
        self.drain_seconds = drain_seconds
        self.detail = f"Request body over {max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        guard = _BodyGuard(self, receive, send, headers.get("expect", "").lower())
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await problem_response(400, "Invalid Content-Length header")(scope, receive, send)
                return
            if length > self.max_bytes:
                guard.refused = True
                await problem_response(413, self.detail)(scope, guard.receive, guard.send)
                return
        await self.app(scope, guard.receive, guard.send)


class _BodyGuard:
    """One request's body: counted as it is read, and drained behind its 413."""

    def __init__(
        self, limit: BodySizeLimitMiddleware, receive: Receive, send: Send, expect: str
    ) -> None:
        self.limit = limit
        self._receive = receive
        self._send = send
        # A client waiting for "100 Continue" has sent nothing yet and will read the answer.
        self.body_complete = expect == "100-continue"
        self.received = 0
        self.refused = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.body_complete = not message.get("more_body", False)
            if self.received > self.limit.max_bytes:
                self.refused = True
                # FastAPI re-raises HTTPExceptions from body reading: the 413 problem follows.
                raise HTTPException(413, self.limit.detail)
        elif message["type"] == "http.disconnect":
            self.body_complete = True
        return message

    async def send(self, message: Message) -> None:
        if not self.refused:
            await self._send(message)
        elif message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"connection"]
            await self._send({**message, "headers": [*headers, (b"connection", b"close")]})
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            # The whole answer goes out first (a client reading while it sends has it at once),
            # the response stays open while the rest of the body is discarded, then it ends.
            await self._send({**message, "more_body": True})
            await self._drain()
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            await self._send(message)

    async def _drain(self) -> None:
        drained = 0
        with anyio.move_on_after(self.limit.drain_seconds):
            while not self.body_complete and drained < self.limit.drain_bytes:
                message = await self._receive()
                if message["type"] != "http.request":
                    return
                drained += len(message.get("body", b""))
                self.body_complete = not message.get("more_body", False)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered as a problem like every error."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        keep = {
            k: v for k, v in response.headers.items() if k not in ("content-type", "content-length")
        }
        return problem_response(response.status_code, bytes(response.body).decode(), keep)


class ObservabilityMiddleware:
    """One log line and one metrics sample per request; unexpected errors become a bare 500
    problem (no stack trace: that goes to the log).

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
                await problem_response(500, "Internal server error")(scope, receive, send)
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
