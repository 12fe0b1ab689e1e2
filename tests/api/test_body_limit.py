"""Oversize bodies against the real server (``python -m autoclip_api serve``) over a real socket.

A client that writes the whole body before reading (as ``urllib`` does) must read the 413
every time: the server reads and discards the rest of the body before it closes the
connection, so the close never resets a connection that still holds unread bytes.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autoclip_api.core.middleware import MAX_BODY_BYTES
from tests.api.conftest import JWT_SECRET

OVERSIZE = MAX_BODY_BYTES + MAX_BODY_BYTES // 10  # 1.1 MiB
CHUNK = 64 * 1024
ATTEMPTS = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The API as deployed, on an ephemeral port of 127.0.0.1 (SQLite, no Redis)."""
    data_dir = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = {
        **os.environ,
        "AUTOCLIP_ENV": "test",
        "AUTOCLIP_DATA_DIR": str(data_dir),
        "AUTOCLIP_DATABASE_URL": f"sqlite:///{data_dir / 'app.db'}",
        "AUTOCLIP_JWT_SECRET": JWT_SECRET,
        "AUTOCLIP_METRICS_PORT": "0",  # no metrics listener: its fixed port may be taken
    }
    env.pop("AUTOCLIP_REDIS_URL", None)
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "autoclip_api"]
    subprocess.run([*command, "migrate"], env=env, cwd=root, check=True, capture_output=True)
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [*command, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail((data_dir / "server.log").read_text(errors="replace"))
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _post_slowly(port: int, body: bytes, headers: bytes = b"") -> bytes:
    """POST ``body`` in chunks with small pauses, all of it, and only then read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            b"POST /api/v1/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nAuthorization: Bearer x\r\n" + headers + b"\r\n"
        )
        for start in range(0, len(body), CHUNK):
            conn.sendall(body[start : start + CHUNK])
            time.sleep(0.005)
        reply = b""
        while b"\r\n\r\n" not in reply and (chunk := conn.recv(65536)):
            reply += chunk
        head, _, body = reply.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        assert length is not None, head
        while len(body) < int(length.group(1)) and (chunk := conn.recv(65536)):
            body += chunk
    return head + b"\r\n\r\n" + body


def _assert_413(reply: bytes) -> None:
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"content-type: application/problem+json" in head.lower()
    assert json.loads(body)["detail"] == f"Request body over {MAX_BODY_BYTES} bytes"


def test_a_client_that_sends_its_whole_oversize_body_always_reads_the_413(server: int) -> None:
    body = b'{"name": "' + b"x" * (OVERSIZE - 12) + b'"}'
    length = f"Content-Length: {len(body)}\r\n".encode()
    for _ in range(ATTEMPTS):
        _assert_413(_post_slowly(server, body, length))


def test_a_chunked_oversize_body_sent_in_full_always_reads_the_413(server: int) -> None:
    payload = b"x" * OVERSIZE
    chunked = b"".join(
        b"%x\r\n%s\r\n" % (len(payload[i : i + CHUNK]), payload[i : i + CHUNK])
        for i in range(0, len(payload), CHUNK)
    )
    for _ in range(ATTEMPTS):
        _assert_413(_post_slowly(server, chunked + b"0\r\n\r\n", b"Transfer-Encoding: chunked\r\n"))
