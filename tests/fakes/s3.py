"""A real S3-compatible server for tests: moto in server mode, in a process of its own on
127.0.0.1, and an optional proxy in front of it that answers chosen requests with S3's own
5xx errors (``SlowDown``, as S3 documents it) before passing the rest through.

``moto_s3()`` yields the server's origin (``s3_for_tests()`` with the client's environment
set, ``new_bucket`` makes a bucket there); ``S3FaultProxy(origin)`` is another origin that
forwards to it. Credentials are not checked by moto, but the client must still have some:
``s3_env()`` gives the environment a boto3 client needs (and no more).
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import boto3
import httpx
import pytest

LAUNCH = """
import threading
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
threading.Event().wait()
"""

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message><RequestId>fault</RequestId></Error>"
)


def s3_env(endpoint: str | None = None) -> dict[str, str]:
    """What a boto3 client needs to talk to the test server: dummy keys, a region, and no
    lookups of profiles or instance metadata (which would leave the machine)."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    if endpoint is not None:
        env["AUTOCLIP_S3_ENDPOINT_URL"] = endpoint
    return env


@contextmanager
def moto_s3() -> Iterator[str]:
    """moto's S3 in its own process; yields ``http://127.0.0.1:<port>``."""
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCH],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.isdigit():
            raise RuntimeError(f"moto server did not start (printed {line!r})")
        origin = f"http://127.0.0.1:{line}"
        httpx.get(f"{origin}/moto-api/", timeout=30).raise_for_status()
        yield origin
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # SIGTERM ignored (inherited): it still has to go
            process.kill()
            process.wait()


@contextmanager
def s3_for_tests() -> Iterator[str]:
    """moto's S3 with the client environment of ``s3_env`` set while it runs."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in s3_env().items():
            patch.setenv(name, value)
        with moto_s3() as origin:
            yield origin


def new_bucket(endpoint: str) -> str:
    """A new, empty bucket of its own for a test."""
    name = f"media-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
    return name


class S3FaultProxy:
    """Forwards every request to ``upstream``, except that ``fail(n)`` makes the next ``n``
    requests (``-1``: all until ``fail(0)``) answer ``503 SlowDown`` without reaching it."""

    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        self._target = (target.hostname or "127.0.0.1", target.port or 80)
        self._lock = threading.Lock()
        self._failures = 0
        self.failed = 0
        self.forwarded = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return None

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if proxy._take_failure():
                    self._send(503, {"Content-Type": "application/xml"}, SLOW_DOWN)
                    return
                connection = http.client.HTTPConnection(*proxy._target, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                    connection.request(self.command, self.path, body=body, headers=headers)
                    answer = connection.getresponse()
                    data = answer.read()
                    forwarded = {
                        k: v for k, v in answer.getheaders()
                        if k.lower() not in {"connection", "transfer-encoding", "content-length"}
                    }  # fmt: skip
                    length = answer.getheader("Content-Length") if self.command == "HEAD" else None
                    self._send(answer.status, forwarded, data, length)
                finally:
                    connection.close()

            def _send(
                self, status: int, headers: dict[str, str], body: bytes, length: str | None = None
            ) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                # A HEAD answer states the object's length, with no body.
                self.send_header("Content-Length", length or str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _take_failure(self) -> bool:
        with self._lock:
            if self._failures == 0:
                self.forwarded += 1
                return False
            if self._failures > 0:
                self._failures -= 1
            self.failed += 1
            return True

    def fail(self, n: int) -> None:
        with self._lock:
            self._failures = n

    def __enter__(self) -> S3FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
