"""The guarded fetcher: SSRF guard at connect time, redirects, caps, timeouts, encodings."""

from __future__ import annotations

import gzip
import ipaddress
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from autoclip_core import fetch as fetch_module
from autoclip_core.fetch import (
    FetchError,
    FetchRefusedError,
    check_url,
    fetch,
    fetch_bytes,
    ip_literal,
)
from tests.fakes.fixtures import _loopback_only, allow_loopback, fake_server
from tests.fakes.server import FakeServer, Reply, conditional, gzipped, redirect

__all__ = ["_loopback_only", "allow_loopback", "fake_server"]  # fixtures used here


# --- address policy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://localhost:8080/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/",  # IPv4-mapped 169.254.169.254
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[ff02::1]/",
        "http://[::]/",
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of the metadata address
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://0.0.0.0/",
        "http://2130706433/",  # decimal 127.0.0.1
        "http://0x7f000001/",  # hex
        "http://0177.0.0.1/",  # octal
        "http://127.1/",  # short form
        "http://0xa9.0xfe.0xa9.0xfe/",  # dotted hex 169.254.169.254
        "http://224.0.0.1/",
        "http://LOCALHOST./",
    ],
)
def test_non_public_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchRefusedError, match="non-public address"):
        check_url(url)


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("[::1]", "::1"),
        ("example.com", None),
        ("1.2.3.4.5", None),
    ],
)
def test_ip_spellings_are_read_as_the_address_they_name(spelling: str, address: str | None) -> None:
    parsed = ip_literal(spelling)
    assert (str(parsed) if parsed else None) == address


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://x/"])
def test_only_http_and_https_are_fetched(url: str) -> None:
    with pytest.raises(FetchRefusedError, match="only http and https"):
        check_url(url)


def _fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """Names resolve to the given answers, one answer per lookup (the last one repeats)."""
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        lookups.append(host)
        queue = answers[host]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return [ipaddress.ip_address(a) for a in answer]

    monkeypatch.setattr(fetch_module, "_resolve", resolve)
    return lookups


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, {"intranet.example.com": [["10.1.2.3"]]})
    with pytest.raises(FetchRefusedError, match=r"intranet\.example\.com resolves to non-public"):
        fetch("http://intranet.example.com/feed", max_bytes=100)


def test_a_name_with_one_private_address_among_public_ones_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fake_dns(monkeypatch, {"mixed.example.com": [["93.184.216.34", "169.254.169.254"]]})
    with pytest.raises(FetchRefusedError, match=r"169\.254\.169\.254"):
        check_url("http://mixed.example.com/")


def test_dns_rebinding_after_the_check_is_caught_at_connect_time(
    monkeypatch: pytest.MonkeyPatch, fake_server: FakeServer
) -> None:
    """The name looks public when checked, then rebinds to loopback for the connection."""
    fake_server.route("/secret", Reply(body=b"internal data"))
    _fake_dns(monkeypatch, {"rebind.example.com": [["93.184.216.34"], ["127.0.0.1"]]})
    url = f"http://rebind.example.com:{fake_server.port}/secret"
    check_url(url)  # a pre-flight check passes ...
    with pytest.raises(FetchRefusedError, match=r"non-public address 127\.0\.0\.1"):
        fetch(url, max_bytes=100)  # ... but the connection is refused
    assert fake_server.hits("/secret") == []


def test_the_connection_goes_to_the_checked_address_with_the_urls_host_header(
    monkeypatch: pytest.MonkeyPatch, fake_server: FakeServer
) -> None:
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.0/8")
    lookups = _fake_dns(monkeypatch, {"feeds.example.com": [["127.0.0.1"]]})
    fake_server.route("/feed", Reply(body=b"ok"))
    result = fetch(f"http://feeds.example.com:{fake_server.port}/feed", max_bytes=100)
    assert result.body == b"ok"
    assert lookups == ["feeds.example.com"]  # resolved once: the address that was checked
    assert fake_server.hits("/feed")[0].headers["host"] == f"feeds.example.com:{fake_server.port}"


def test_an_allowlisted_host_name_may_resolve_anywhere(
    monkeypatch: pytest.MonkeyPatch, fake_server: FakeServer
) -> None:
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "dev-feeds.internal")
    _fake_dns(monkeypatch, {"dev-feeds.internal": [["127.0.0.1"]]})
    fake_server.route("/feed", Reply(body=b"ok"))
    assert fetch(f"http://dev-feeds.internal:{fake_server.port}/feed", max_bytes=10).body == b"ok"


# --- fetching from a local server ----------------------------------------------------------


def test_local_server_is_refused_unless_allowlisted(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = fake_server.route("/ok", Reply(body=b"x" * 10))
    with pytest.raises(FetchRefusedError, match="non-public address"):
        fetch_bytes(url, max_bytes=100)
    assert fake_server.hits("/ok") == []
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.0/8")
    assert fetch_bytes(url, max_bytes=100) == b"x" * 10


@pytest.mark.usefixtures("allow_loopback")
def test_redirects_are_checked_again(fake_server: FakeServer) -> None:
    url = fake_server.route("/to-metadata", redirect("http://169.254.169.254/latest/"))
    with pytest.raises(FetchRefusedError, match=r"169\.254\.169\.254"):
        fetch_bytes(url, max_bytes=100)


@pytest.mark.usefixtures("allow_loopback")
def test_redirect_to_another_scheme_is_refused(fake_server: FakeServer) -> None:
    url = fake_server.route("/to-file", redirect("file:///etc/passwd"))
    with pytest.raises(FetchRefusedError, match="only http and https"):
        fetch_bytes(url, max_bytes=100)


@pytest.mark.usefixtures("allow_loopback")
def test_relative_redirects_are_followed_and_the_final_url_reported(
    fake_server: FakeServer,
) -> None:
    fake_server.route("/old", redirect("/new", 301))
    fake_server.route("/new", Reply(body=b"moved"))
    result = fetch(fake_server.url("/old"), max_bytes=100)
    assert (result.body, result.url) == (b"moved", fake_server.url("/new"))


@pytest.mark.usefixtures("allow_loopback")
def test_redirect_loops_end_with_an_error(fake_server: FakeServer) -> None:
    url = fake_server.route("/loop", redirect("/loop"))
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch_bytes(url, max_bytes=100)


def test_credentials_are_not_forwarded_to_another_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.0/8")
    first, second = FakeServer().start(), FakeServer().start()
    try:
        first.route("/api", redirect(second.url("/elsewhere")))
        first.route("/same", redirect("/final"))
        first.route("/final", Reply(body=b"same origin"))
        second.route("/elsewhere", Reply(body=b"other origin"))
        headers = {"Authorization": "Bearer s3cret", "Accept": "application/json"}
        assert fetch(first.url("/api"), max_bytes=100, headers=headers).body == b"other origin"
        seen = second.hits("/elsewhere")[0].headers
        assert "authorization" not in seen
        assert seen["accept"] == "application/json"
        fetch(first.url("/same"), max_bytes=100, headers=headers)
        assert first.hits("/final")[0].headers["authorization"] == "Bearer s3cret"
    finally:
        first.stop()
        second.stop()


@pytest.mark.usefixtures("allow_loopback")
def test_oversize_bodies_are_refused(fake_server: FakeServer) -> None:
    url = fake_server.route("/big", Reply(body=b"x" * 5000))
    with pytest.raises(FetchError, match="exceeds 1000"):
        fetch_bytes(url, max_bytes=1000)


@pytest.mark.usefixtures("allow_loopback")
def test_oversize_bodies_without_a_length_are_cut_off(fake_server: FakeServer) -> None:
    url = fake_server.route("/stream", Reply(body=b"x" * 50_000, content_length=False))
    with pytest.raises(FetchError, match="exceeds 1000 bytes"):
        fetch_bytes(url, max_bytes=1000)


@pytest.mark.usefixtures("allow_loopback")
def test_conditional_get_returns_not_modified(fake_server: FakeServer) -> None:
    url = fake_server.route("/feed", conditional(b"<rss/>", '"v1"'))
    first = fetch(url, max_bytes=100)
    assert (first.status, first.etag, first.body) == (200, '"v1"', b"<rss/>")
    since = "Wed, 01 May 2024 09:00:00 GMT"
    again = fetch(url, max_bytes=100, etag=first.etag, last_modified=since)
    assert again.not_modified
    assert again.body == b""
    assert fake_server.hits("/feed")[1].headers["if-none-match"] == '"v1"'
    assert fake_server.hits("/feed")[1].headers["if-modified-since"].startswith("Wed, 01 May")


@pytest.mark.usefixtures("allow_loopback")
def test_gzip_bodies_are_decoded(fake_server: FakeServer) -> None:
    url = fake_server.route("/gz", gzipped(b"<rss>hello</rss>"))
    assert fetch_bytes(url, max_bytes=100) == b"<rss>hello</rss>"
    assert "gzip" in fake_server.hits("/gz")[0].headers["accept-encoding"]


@pytest.mark.usefixtures("allow_loopback")
def test_a_gzip_bomb_stops_at_the_cap(fake_server: FakeServer) -> None:
    bomb = gzip.compress(b"\0" * 30_000_000)  # 30 MB in ~30 KB
    url = fake_server.route("/bomb", Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(FetchError, match="exceeds 1000000 bytes"):
        fetch_bytes(url, max_bytes=1_000_000)


@pytest.mark.usefixtures("allow_loopback")
def test_corrupt_gzip_is_an_error(fake_server: FakeServer) -> None:
    url = fake_server.route("/bad", Reply(body=b"not gzip", headers={"Content-Encoding": "gzip"}))
    with pytest.raises(FetchError, match="corrupt gzip"):
        fetch_bytes(url, max_bytes=1000)


@pytest.mark.usefixtures("allow_loopback")
def test_a_slow_drip_ends_at_the_deadline(fake_server: FakeServer) -> None:
    url = fake_server.route("/slow", Reply(body=b"x" * 200, chunk_size=1, chunk_delay=0.05))
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"slower than 0\.5 s") as caught:
        fetch_bytes(url, max_bytes=1000, timeout_s=0.5)
    assert time.monotonic() - started < 2
    assert caught.value.retryable


@pytest.mark.usefixtures("allow_loopback")
def test_a_silent_server_times_out(fake_server: FakeServer) -> None:
    url = fake_server.route("/silent", Reply(body=b"x", delay=3))
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        fetch_bytes(url, max_bytes=1000, timeout_s=0.5)
    assert time.monotonic() - started < 2


@pytest.mark.usefixtures("allow_loopback")
def test_http_errors_say_whether_to_retry(fake_server: FakeServer) -> None:
    limited = fake_server.route("/limited", Reply(status=429, headers={"Retry-After": "120"}))
    gone = fake_server.route("/gone", Reply(status=410))
    with pytest.raises(FetchError, match="HTTP 429") as busy:
        fetch_bytes(limited, max_bytes=100)
    assert (busy.value.retryable, busy.value.retry_after, busy.value.status) == (True, 120.0, 429)
    with pytest.raises(FetchError, match="HTTP 410") as missing:
        fetch_bytes(gone, max_bytes=100)
    assert not missing.value.retryable


@pytest.mark.usefixtures("allow_loopback")
def test_environment_proxies_are_ignored(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("http_proxy", "http://10.9.9.9:3128")
    url = fake_server.route("/direct", Reply(body=b"direct"))
    assert fetch_bytes(url, max_bytes=100) == b"direct"


# --- TLS: SNI and certificate checks use the URL's host name --------------------------------


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, ssl.SSLContext, list[str]]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=feeds.test", "-addext", "subjectAltName=DNS:feeds.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    sni: list[str] = []
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    server_ctx.sni_callback = lambda sock, name, ctx: sni.append(name or "")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"host={self.headers['Host']}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = server_ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    client_ctx = ssl.create_default_context(cafile=str(cert))
    yield httpd.server_address[1], client_ctx, sni
    httpd.shutdown()


def test_tls_uses_the_url_host_for_sni_and_certificate(
    tls_server: tuple[int, ssl.SSLContext, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, client_ctx, sni = tls_server
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.0/8")
    _fake_dns(monkeypatch, {"feeds.test": [["127.0.0.1"]], "other.test": [["127.0.0.1"]]})
    result = fetch(f"https://feeds.test:{port}/", max_bytes=100, verify=client_ctx)
    assert result.body == f"host=feeds.test:{port}".encode()
    assert sni == ["feeds.test"]
    with pytest.raises(FetchError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
        fetch(f"https://other.test:{port}/", max_bytes=100, verify=client_ctx)
