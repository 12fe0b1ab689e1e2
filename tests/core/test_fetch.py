from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from autoclip_core.fetch import FetchError, FetchRefusedError, check_url, fetch_bytes


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://localhost:8080/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://224.0.0.1/",
    ],
)
def test_non_public_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchRefusedError, match="non-public address"):
        check_url(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://x/"])
def test_only_http_and_https_are_fetched(url: str) -> None:
    with pytest.raises(FetchRefusedError, match="only http and https"):
        check_url(url)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/redirect-to-metadata":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/")
            self.end_headers()
            return
        body = b"x" * (5000 if self.path == "/big" else 10)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_local_server_is_refused_unless_allowlisted(
    local_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(FetchRefusedError):
        fetch_bytes(f"{local_server}/ok", max_bytes=100)
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.0/8")
    assert fetch_bytes(f"{local_server}/ok", max_bytes=100) == b"x" * 10


def test_redirects_are_checked_again(local_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.1")
    with pytest.raises(FetchRefusedError, match=r"169\.254\.169\.254"):
        fetch_bytes(f"{local_server}/redirect-to-metadata", max_bytes=100)


def test_oversize_bodies_are_refused(local_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.1")
    with pytest.raises(FetchError, match="exceeds 1000"):
        fetch_bytes(f"{local_server}/big", max_bytes=1000)
