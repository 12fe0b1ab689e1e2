"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import pytest

from tests.api.helpers import ApiClient

pytestmark = pytest.mark.anyio


async def test_healthz_is_liveness_at_root_and_under_api_v1(client: ApiClient) -> None:
    for path in ("/healthz", "/api/v1/healthz"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


async def test_readyz_checks_database_and_redis(client: ApiClient) -> None:
    for path in ("/readyz", "/api/v1/readyz"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json() == {
            "status": "ready",
            "checks": {
                "database": {"status": "ok", "detail": "postgresql"},
                "redis": {"status": "ok", "detail": "rate limits and cache versions in Redis"},
            },
        }


async def test_metrics_count_requests_by_route_template(client: ApiClient) -> None:
    account = await client.register()
    project = await client.project(account)
    await client.get(f"/api/v1/projects/{project['id']}", headers=account.headers)
    await client.get("/api/v1/projects/" + "0" * 32, headers=account.headers)
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
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
    assert (await client.get("/api/v1/metrics")).status_code == 200
