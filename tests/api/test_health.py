"""Liveness and readiness probes."""

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
