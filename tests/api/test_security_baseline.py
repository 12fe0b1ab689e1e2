"""Request-size limit, security headers, CORS, error bodies and credential-free logs."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import uvicorn
from fastapi import FastAPI

from autoclip_api.core.middleware import DRAIN_MAX_BYTES
from autoclip_api.projects.service import project_service
from tests.api.conftest import JWT_SECRET, client_for
from tests.api.helpers import ApiClient, problem

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024
TOO_LARGE = problem(413, "Request body over 1048576 bytes")
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "strict-transport-security": "max-age=63072000; includeSubDomains",
    "cache-control": "no-store",
}


def _assert_security_headers(headers: dict[str, str]) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, name
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "server" not in headers or "uvicorn" not in headers["server"]


# request size ---------------------------------------------------------------------------------


async def test_declared_body_over_1_mib_is_413_before_the_body_is_read(app: FastAPI) -> None:
    sent: list[dict[str, object]] = []
    sent_before_first_read: list[int] = []
    drained = 0

    async def receive() -> dict[str, object]:
        nonlocal drained
        if not sent_before_first_read:
            sent_before_first_read.append(len(sent))
        drained += 64 * 1024
        return {"type": "http.request", "body": b"x" * (64 * 1024), "more_body": True}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/auth/register",
        "raw_path": b"/api/v1/auth/register",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"104857600")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    # the whole answer went out before a byte of the body was read ...
    assert sent_before_first_read == [2]
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"]) == TOO_LARGE  # type: ignore[arg-type]
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}  # type: ignore[union-attr]
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    _assert_security_headers(headers)
    # ... then at most DRAIN_MAX_BYTES of the 100 MiB declared were read and discarded
    assert drained == DRAIN_MAX_BYTES
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


async def test_streamed_body_over_1_mib_is_413(client: ApiClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"x" * (128 * 1024)  # 2.5 MiB in all, no Content-Length

    response = await client.post(
        "/api/v1/auth/register", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == TOO_LARGE


async def test_body_of_exactly_1_mib_is_accepted_for_parsing(client: ApiClient) -> None:
    body = b'{"email": "' + b"a" * (MIB - 13) + b'"}'
    assert len(body) == MIB
    response = await client.post(
        "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422  # parsed and validated, not refused for its size
    too_big = body[:-2] + b'a"}'
    response = await client.post(
        "/api/v1/auth/login", content=too_big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[int]:
    """The app behind a real uvicorn on 127.0.0.1 (an ephemeral port)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(10)
    sock.close()


def test_live_server_answers_413_without_waiting_for_the_body(live_server: int) -> None:
    with socket.create_connection(("127.0.0.1", live_server), timeout=5) as conn:
        conn.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 52428800\r\n\r\n{"email"'  # claims 50 MiB, sends 8 bytes
        )
        started = time.monotonic()
        reply = conn.recv(65536)
        assert time.monotonic() - started < 2
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body) == TOO_LARGE


# headers, CORS ----------------------------------------------------------------------------


async def test_security_headers_on_every_kind_of_response(client: ApiClient) -> None:
    account = await client.register()
    responses = [
        await client.get("/api/v1/users/me", headers=account.headers),  # 200
        await client.get("/api/v1/users/me"),  # 401
        await client.get("/api/v1/nowhere"),  # 404
        await client.put("/api/v1/users/me"),  # 405
        await client.post("/api/v1/auth/login", json={}),  # 422
        await client.get("/healthz"),
    ]
    for response in responses:
        _assert_security_headers(dict(response.headers))
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
            assert {"type", "title", "status", "detail"} <= set(response.json())
        else:
            assert response.headers["content-type"].startswith("application/json")


async def test_docs_page_gets_a_csp_that_lets_it_load(client: ApiClient) -> None:
    response = await client.get("/api/v1/docs")
    assert response.status_code == 200
    assert "cdn.jsdelivr.net" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_cors_is_closed_by_default(client: ApiClient) -> None:
    preflight = await client.options(
        "/api/v1/projects",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = await client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_allows_exactly_the_configured_origins(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(cors_origins="https://app.autoclip.example, https://admin.autoclip.example")
    async with client_for(app) as http:
        ok = await http.options(
            "/api/v1/projects",
            headers={
                "Origin": "https://app.autoclip.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://app.autoclip.example"
        assert "access-control-allow-credentials" not in ok.headers
        _assert_security_headers(dict(ok.headers))
        evil = await http.options(
            "/api/v1/projects",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in evil.headers
        simple = await http.get("/healthz", headers={"Origin": "https://admin.autoclip.example"})
        assert simple.headers["access-control-allow-origin"] == "https://admin.autoclip.example"


# errors -----------------------------------------------------------------------------------


async def test_unexpected_errors_are_a_bare_500_without_internals(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    account = await client.register()

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(project_service, "list", explode)
    with caplog.at_level(logging.ERROR, logger="autoclip_api"):
        response = await client.get("/api/v1/projects", headers=account.headers)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == problem(500, "Internal server error")  # nothing more
    _assert_security_headers(dict(response.headers))
    assert "Traceback" in caplog.text  # the operator sees it in the log, not the client


async def test_malformed_json_is_422_without_echoing_the_body(client: ApiClient) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        content=b'{"email": "a@b.co", "password": "hunter2hunter2"',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert "hunter2" not in response.text
    assert [(e["type"], e["pointer"]) for e in response.json()["errors"]] == [("json_invalid", "#")]


# logs ---------------------------------------------------------------------------------------


async def test_no_password_token_or_secret_ever_reaches_the_logs(
    client: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # everything, every logger (SQLAlchemy included)
    password = "s3cret-passphrase-in-logs"
    new_password = "an0ther-passphrase-in-logs"
    account = await client.register(password=password)
    await client.post("/api/v1/auth/login", json={"email": account.email, "password": "wrong!!"})
    again = await client.login(account)
    refreshed = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": again.refresh_token})
    ).json()
    await client.post("/api/v1/auth/refresh", json={"refresh_token": again.refresh_token})  # reuse
    await client.patch(
        "/api/v1/users/me",
        json={"password": new_password, "current_password": password},
        headers=account.headers,
    )
    await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {JWT_SECRET}"})
    await client.post("/api/v1/auth/logout", headers=account.headers)
    await asyncio.sleep(0)

    assert caplog.records, "expected the API to log something"
    secrets = [
        password,
        new_password,
        JWT_SECRET,
        account.access_token,
        account.refresh_token,
        again.access_token,
        again.refresh_token,
        refreshed["access_token"],
        refreshed["refresh_token"],
    ]
    for record in caplog.records:
        text = record.getMessage() + repr(record.args) + str(record.exc_info or "")
        for secret in secrets:
            assert secret not in text, f"{record.name}: {record.getMessage()[:200]}"
        # no fragment of a token either (the signature part alone is a credential)
        for token in secrets[3:]:
            assert token.split(".")[-1] not in text
    assert "signed in user=" in caplog.text
    # one line per request: route template, status, duration, user — nothing else
    assert "POST /api/v1/auth/logout 204" in caplog.text
    assert f"user={account.user_id}" in caplog.text
