"""Prometheus metrics: counted per route template, served only on their own listener."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import generate_latest

from autoclip_api.__main__ import main
from autoclip_api.core.metrics import MULTIPROCESS_DIR_ENV
from tests.api.helpers import ApiClient
from tests.api.live_server import live_api

pytestmark = pytest.mark.anyio


async def test_requests_are_counted_by_route_template(app: FastAPI, client: ApiClient) -> None:
    account = await client.register()
    project = await client.project(account)
    await client.get(f"/api/v1/projects/{project['id']}", headers=account.headers)
    await client.get("/api/v1/projects/" + "0" * 32, headers=account.headers)
    text = generate_latest(app.state.api.metrics.registry).decode()
    assert (
        'autoclip_http_requests_total{method="GET",route="/api/v1/projects/{project_id}",'
        'status="200"} 1.0' in text
    )
    assert (
        'autoclip_http_requests_total{method="GET",route="/api/v1/projects/{project_id}",'
        'status="404"} 1.0' in text
    )
    assert 'autoclip_auth_events_total{event="register"} 1.0' in text
    assert "autoclip_http_request_duration_seconds_bucket" in text
    assert project["id"] not in text  # ids never become label values


async def test_the_api_serves_no_metrics(client: ApiClient) -> None:
    for path in ("/metrics", "/api/v1/metrics"):
        assert (await client.get(path)).status_code == 404


def _requests_total(metrics: str, route: str, status: int) -> float:
    pattern = (
        rf'autoclip_http_requests_total\{{method="GET",route="{re.escape(route)}",'
        rf'status="{status}"\}} ([0-9.e+]+)'
    )
    found = re.search(pattern, metrics)
    return float(found.group(1)) if found else 0.0


def test_metrics_are_on_their_own_loopback_listener_never_the_api_port(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    """Anyone reaching the API port asks for /metrics and /api/v1/metrics (request counts per
    route, failed sign-ins, memory, versions): 404; the metrics are on 127.0.0.1 only."""
    with live_api(tmp_path, pg_url, redis_url) as server, server.client("127.0.0.2") as outsider:
        for path in ("/metrics", "/api/v1/metrics"):
            assert outsider.get(path).status_code == 404
        assert outsider.get("/api/v1/users/me").status_code == 401
        metrics = httpx.get(f"{server.metrics_url}/metrics")
        assert metrics.status_code == 200
        text = metrics.text
        assert _requests_total(text, "/api/v1/users/me", 401) == 1
        assert _requests_total(text, "/metrics", 404) == 0  # 404s are <unmatched>
        assert "process_resident_memory_bytes" in text  # one worker: its own process figures
        # bound to 127.0.0.1 only: another address of the host is refused
        port = httpx.URL(server.metrics_url).port
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.2:{port}/metrics")


def test_the_listener_adds_up_every_worker(tmp_path: Path, pg_url: str, redis_url: str) -> None:
    with live_api(tmp_path, pg_url, redis_url, workers=2) as server:
        for _ in range(12):  # fresh connections: the kernel spreads them over the workers
            with server.client("127.0.0.2") as http:
                assert http.get("/api/v1/users/me").status_code == 401
        text = httpx.get(f"{server.metrics_url}/metrics").text
        assert _requests_total(text, "/api/v1/users/me", 401) == 12


def test_serve_refuses_to_start_when_the_metrics_port_is_taken(
    tmp_path: Path,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {
        "AUTOCLIP_ENV": "local",
        "AUTOCLIP_DATA_DIR": str(tmp_path),
        "AUTOCLIP_DATABASE_URL": sqlite_url,
    }.items():
        monkeypatch.setenv(name, value)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("AUTOCLIP_METRICS_PORT", str(taken.getsockname()[1]))
        assert main(["serve"]) == 2
    assert "error: metrics listener on 127.0.0.1:" in capsys.readouterr().err
    assert MULTIPROCESS_DIR_ENV not in os.environ  # nothing left behind for this process
