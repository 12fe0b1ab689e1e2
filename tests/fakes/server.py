"""A small programmable HTTP server on 127.0.0.1 for tests: routes, ETag/304, gzip,
redirects, slow and silent responses — and a record of every request it saw."""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds before anything is sent."""
    chunk_size: int = 0
    chunk_delay: float = 0.0
    """With ``chunk_size``: the body is dripped, ``chunk_delay`` seconds between chunks."""
    content_length: bool = True
    reset: bool = False
    """Abort the connection with a TCP reset instead of answering."""


Handler = Callable[[Request], Reply]


def text_reply(body: bytes | str, content_type: str = "application/xml", **kwargs) -> Reply:  # type: ignore[no-untyped-def]
    data = body.encode() if isinstance(body, str) else body
    headers = {"Content-Type": content_type, **kwargs.pop("headers", {})}
    return Reply(body=data, headers=headers, **kwargs)


def conditional(body: bytes, etag: str, content_type: str = "application/xml") -> Handler:
    """Serves ``body`` with an ETag, and 304 to a request that already has it."""

    def handle(request: Request) -> Reply:
        if request.headers.get("if-none-match") == etag:
            return Reply(status=304, headers={"ETag": etag})
        return Reply(body=body, headers={"Content-Type": content_type, "ETag": etag})

    return handle


def gzipped(body: bytes, content_type: str = "application/xml") -> Reply:
    return Reply(
        body=gzip.compress(body),
        headers={"Content-Type": content_type, "Content-Encoding": "gzip"},
    )


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status=status, headers={"Location": location})


class FakeServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    self.command,
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with server._lock:
                    server.requests.append(request)
                    handler = server.routes.get(parts.path)
                reply = handler(request) if handler else Reply(status=404, body=b"not found")
                try:
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _send(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.reset:
                    # Linger 0: close() sends RST rather than FIN.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.content_length and reply.status != 304:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command == "HEAD" or reply.status == 304:
                    return
                if not reply.chunk_size:
                    self.wfile.write(reply.body)
                    return
                for start in range(0, len(reply.body), reply.chunk_size):
                    self.wfile.write(reply.body[start : start + reply.chunk_size])
                    self.wfile.flush()
                    time.sleep(reply.chunk_delay)

            do_GET = do_POST = do_HEAD = do_PUT = _serve

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((host, 0), _Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"{self.base}{path}"

    def route(self, path: str, handler: Handler | Reply) -> str:
        """Serve ``path``; returns its URL."""
        with self._lock:
            self.routes[path] = handler if callable(handler) else (lambda _r, reply=handler: reply)
        return self.url(path)

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
