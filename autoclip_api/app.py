"""The FastAPI app, from the ``create_app()`` factory (``uvicorn --factory ...``)."""

from __future__ import annotations

import gc
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from autoclip_api.auth.dependencies import RouteGuard
from autoclip_api.auth.endpoints import router as auth_router
from autoclip_api.channels.endpoints import oauth_router as channel_oauth_router
from autoclip_api.channels.endpoints import router as channels_router
from autoclip_api.contents.endpoints import router as contents_router
from autoclip_api.context import ApiContext
from autoclip_api.core.errors import ApiError
from autoclip_api.core.logs import install_redaction
from autoclip_api.core.middleware import (
    MAX_BODY_BYTES,
    BodySizeLimitMiddleware,
    ObservabilityMiddleware,
    ProblemCORSMiddleware,
    SecurityHeadersMiddleware,
)
from autoclip_api.core.responses import (
    VALIDATION_DETAIL,
    Problem,
    problem_documentation,
    problem_response,
    validation_errors,
)
from autoclip_api.dagster.outbox import RunSubmitter, submitting_in_background
from autoclip_api.health.endpoints import build_router as build_health_router
from autoclip_api.media.endpoints import router as media_router
from autoclip_api.organizations.endpoints import invitations_router
from autoclip_api.organizations.endpoints import router as organizations_router
from autoclip_api.projects.endpoints import router as projects_router
from autoclip_api.sources.endpoints import router as sources_router
from autoclip_api.templates.endpoints import router as templates_router
from autoclip_api.users.endpoints import router as users_router
from autoclip_api.webhooks.endpoints import router as webhooks_router
from autoclip_core.settings import Settings, get_settings

API_PREFIX = "/api/v1"
GC_GEN0_THRESHOLD = 50_000
"""Allocations between young-generation collections (CPython default: 700)."""


def create_server_app() -> FastAPI:
    """The app as ``serve`` runs it: one per server process, with the GC tuned for serving.

    Everything loaded at start-up lives as long as the process: it is kept out of the cyclic
    GC, and young collections run less often, so full collections do not stall requests
    (they were the whole p95 tail under load). Only for a process that does nothing but
    serve: tests and embedding callers use ``create_app``.
    """
    app = create_app()
    serving = app.router.lifespan_context

    @asynccontextmanager
    async def tuned(app_: FastAPI) -> AsyncIterator[None]:
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_GEN0_THRESHOLD, 20, 20)
        async with serving(app_):
            yield

    app.router.lifespan_context = tuned
    return app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_redaction()
    api = ApiContext.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        submitter = RunSubmitter(api.database, api.dagster)
        async with submitting_in_background(submitter, settings.dagster_submit_interval_seconds):
            yield
        await api.aclose()

    app = FastAPI(
        title="AutoClip API",
        version="1",
        summary="Feeds in, short videos out: identity, organisations and projects.",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.api = api

    v1 = APIRouter(prefix=API_PREFIX)
    # Routes are matched in order, one regular expression each: the most requested lists
    # first (no two routers share a path, so the order changes nothing else).
    v1.include_router(contents_router)
    for router in (auth_router, users_router, organizations_router, projects_router):
        v1.include_router(router)
    v1.include_router(invitations_router)
    v1.include_router(sources_router)
    for router in (channels_router, channel_oauth_router, templates_router, media_router):
        v1.include_router(router)
    v1.include_router(webhooks_router)
    v1.include_router(build_health_router())
    app.include_router(v1)
    app.include_router(build_health_router(), include_in_schema=False)  # probes at the root too
    _document_operations(app)

    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(
        StarletteHTTPException,
        _http_error_handler(AllowedMethods(app)),  # type: ignore[arg-type]
    )
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]

    # Added innermost first: security headers wrap everything, errors and preflights included.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(
        ProblemCORSMiddleware,
        allow_origins=settings.cors_origin_list,
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        expose_headers=["Retry-After"],
        allow_credentials=False,
        max_age=600,
    )
    app.add_middleware(ObservabilityMiddleware, metrics=api.metrics, templates=RouteTemplates(app))
    app.add_middleware(SecurityHeadersMiddleware, docs_path=f"{API_PREFIX}/docs")
    return app


def api_routes(app: FastAPI) -> Iterator[tuple[str, set[str], APIRoute, Dependant]]:
    """Every API route as served: full path template, methods, route, effective dependant."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            yield (
                context.path_format or route.path,
                set(context.methods or ()),
                route,
                context.dependant,
            )


def route_policy(dependant: Dependant) -> str | None:
    """The policy a route's guard declares (None: the route declares none)."""
    pending = list(dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if isinstance(dependency.call, RouteGuard):
            return dependency.call.policy
        pending.extend(dependency.dependencies)
    return None


class RouteTemplates:
    """Route object → full path template (``/api/v1/projects/{project_id}``) for logs/metrics."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._templates: dict[int, str] | None = None

    def __call__(self, route: object) -> str:
        if self._templates is None:
            self._templates = {id(r): path for path, _, r, _ in api_routes(self.app)}
        return self._templates.get(id(route)) or getattr(route, "path", None) or "<unmatched>"


def _document_operations(app: FastAPI) -> None:
    """Each operation's guard (``x-permission`` and its description) and its error responses.

    Every error is a :class:`Problem`: the codes a route declares (``error_responses``), 422
    wherever FastAPI validates input, 400 and 413 wherever there is a body and 500 everywhere.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for path, methods, _, dependant in api_routes(app):
            policy = route_policy(dependant)
            for method in methods:
                operation = schema.get("paths", {}).get(path, {}).get(method.lower())
                if operation is None:
                    continue
                if policy is not None:
                    operation["x-permission"] = policy
                    text = operation.get("description", "")
                    operation["description"] = f"{text}\n\n**Requires:** `{policy}`".strip()
                _document_errors(operation)
        _add_problem_schemas(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_errors(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    codes = ["500"]
    if "422" in responses:  # FastAPI's own entry names its HTTPValidationError: replaced
        codes.append("422")
    if "requestBody" in operation:
        codes += ["400", "413"]  # a body that is not UTF-8 (or not readable at all), too big
    for code in codes:
        responses[code] = problem_documentation(int(code))
    operation["responses"] = dict(sorted(responses.items()))


def _add_problem_schemas(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's, no longer referenced
        if f'"#/components/schemas/{name}"' not in json.dumps(schema["paths"]):
            components.pop(name, None)


async def _api_error(_request: Request, exc: ApiError) -> Response:
    return problem_response(exc.status_code, exc.detail, exc.headers)


class AllowedMethods:
    """Request path → every method it has, for the ``Allow`` of a 405 (RFC 9110 §15.5.6):
    the router names only the route it tried first, and a path has a route per method."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._paths: list[tuple[re.Pattern[str], set[str]]] | None = None

    def __call__(self, path: str) -> str:
        if self._paths is None:
            self._paths = [
                (compile_path(template)[0], methods)
                for template, methods, _, _ in api_routes(self.app)
            ]
        found = set().union(*(methods for regex, methods in self._paths if regex.match(path)))
        return ", ".join(sorted(found))


def _http_error_handler(
    allowed: AllowedMethods,
) -> Callable[[Request, StarletteHTTPException], Awaitable[Response]]:
    async def handle(request: Request, exc: StarletteHTTPException) -> Response:
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": allowed(request.url.path)}
        return problem_response(exc.status_code, str(exc.detail), headers)

    return handle


async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
    """422 with where and what, but never the submitted value (it may be a password)."""
    return problem_response(
        422, VALIDATION_DETAIL, errors=validation_errors(exc.errors(), exc.body)
    )
