"""Liveness and readiness probes (served at the root and under /api/v1).

Metrics are served apart from the API (``core/metrics.py``).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from autoclip_api.auth.dependencies import Public
from autoclip_api.context import ApiContext, ApiDep
from autoclip_api.core.ratelimit import LimiterUnavailable


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Check(BaseModel):
    status: Literal["ok", "error", "not_configured"]
    detail: str


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, Check]


async def healthz() -> Liveness:
    """The process is up (no dependency is checked)."""
    return Liveness()


def readyz(api: ApiDep) -> JSONResponse:
    """The database and (when configured) Redis answer; 503 with the reason otherwise."""
    checks = {"database": _database(api), "redis": _redis(api)}
    ready = all(c.status != "error" for c in checks.values())
    body = Readiness(status="ready" if ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


def build_router() -> APIRouter:
    """A fresh router each call: the probes are served at the root and under /api/v1."""
    router = APIRouter(tags=["health"], dependencies=[Public])
    router.add_api_route("/healthz", healthz, methods=["GET"])
    router.add_api_route(
        "/readyz",
        readyz,
        methods=["GET"],
        response_model=Readiness,
        responses={503: {"model": Readiness}},
    )
    return router


def _database(api: ApiContext) -> Check:
    try:
        with api.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; the class says why
        return Check(status="error", detail=f"unreachable ({type(exc).__name__})")
    return Check(status="ok", detail=api.engine.dialect.name)


def _redis(api: ApiContext) -> Check:
    if api.limiter.backend == "memory":
        return Check(status="not_configured", detail="in-process rate limits and caches")
    try:
        api.limiter.ping()
    except LimiterUnavailable as exc:
        return Check(
            status="error", detail=f"{exc}: sign-in and token refresh answer 503, reads work"
        )
    return Check(status="ok", detail="rate limits and cache versions in Redis")
