"""Schemathesis over the OpenAPI schema, authenticated, against the real stack (PostgreSQL +
Redis), as a signed-in owner, with ALL of schemathesis's checks on EVERY operation: the schema
states the rules the server enforces — valid data is accepted (no 400/422), invalid data
refused, no 5xx, only documented status codes, headers and bodies.

One app and one organisation serve the whole module: a project with a channel, a source, a
content item and a template of its own. Path parameters naming one of them point at the real
one half of the time, so generated data also reaches the code behind the 404s; the operations
that delete run last, so the others still find what they name.

What JSON Schema cannot say is told to the generator, not hidden from the checks: the password
policy beyond its length (a strength estimate, "not your name") through the standard
``password`` format; a source's destination (resolved by DNS when it is created) by leaving
out URLs whose host the fetcher's guard refuses. In valid data (``as_the_server_knows``),
references to rows (``project_id``, ``template_id``, ``channels``) point at rows that exist —
the schema documents the 422 naming an unknown one; each ``Idempotency-Key`` is new (one sent
again with another request is the documented 422); a template's ``source`` and a preview's
``modifications`` are ones the engine renders (RenderScript, checked by the engine's own
model); an article URL serves an article. A 413 (body over 1 MiB) counts as a rejection of
invalid data.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from autoclip_api.app import create_app
from autoclip_core.db.migrate import upgrade
from autoclip_core.fetch import FetchError, FetchRefusedError, check_url
from autoclip_core.settings import Settings
from tests.api.conftest import (
    FAST_HASHING,
    JWT_SECRET,
    emptied,
    flushed_redis_url,
    make_settings,
)
from tests.api.helpers import PASSWORD
from tests.fakes.net import forbid_outside_connections, running_server
from tests.fakes.server import FakeServer, text_reply

OPENAPI = "/api/v1/openapi.json"
SOURCES = "/api/v1/projects/{project_id}/sources"
EMAIL = "fuzz@example.com"
OWNER = {"email": EMAIL, "password": PASSWORD, "name": "F", "org_name": "F"}
IDEMPOTENCY_KEY = "Idempotency-Key"
ARTICLE = (
    "The city council approved the harbour plan on Tuesday after a long debate. "
    "Work on the new piers starts in spring and should end within two years."
)
MAX_EXAMPLES = int(os.environ.get("AUTOCLIP_FUZZ_EXAMPLES", "5"))
"""Per operation and mode: every operation is covered in well under a minute (set
``AUTOCLIP_FUZZ_EXAMPLES`` higher for a longer hunt)."""
DERANDOMIZE = "AUTOCLIP_FUZZ_EXAMPLES" not in os.environ
"""The same cases on every run (CI); a longer hunt draws new ones each time."""
# Hangul syllables 37 code points apart: no repeats, no runs ("abc"), in no dictionary and no
# one's name — what the policy's strength estimate rates as strong.
_SYLLABLES = [chr(c) for c in range(0xAC00, 0xD7A4, 37)]
STRONG_PASSWORDS = st.lists(st.sampled_from(_SYLLABLES), min_size=12, max_size=20, unique=True)
schemathesis.openapi.format("password", STRONG_PASSWORDS.map("".join))

ALL_CHECKS = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [
        "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx",
    ]}}}
)  # fmt: skip


def _operation_labels() -> list[str]:
    # The app's threads may still be writing there as the folder goes (what is left is temp).
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as folder:
        url = f"sqlite:///{Path(folder) / 'app.db'}"
        upgrade(url)
        app = create_app(
            Settings(
                env="test", data_dir=folder, database_url=url, jwt_secret=JWT_SECRET,
                **FAST_HASHING,
            )
        )  # fmt: skip
        try:
            schema = schemathesis.openapi.from_asgi(OPENAPI, app)
            labels = [result.ok().label for result in schema.get_all_operations()]
        finally:
            app.state.api.close()
    # Deleting last, so the other operations find what they name; then the project (and what
    # is in it), then the account.
    last = ["DELETE /api/v1/projects/{project_id}", "DELETE /api/v1/users/me"]

    def place(label: str) -> tuple[bool, int]:
        return label.startswith("DELETE "), last.index(label) if label in last else -1

    return sorted(labels, key=place)


LABELS = _operation_labels()


@pytest.fixture(scope="module")
def article_server() -> Iterator[FakeServer]:
    """Where the articles of valid ``url`` bodies are (loopback only: no test reaches out)."""
    with pytest.MonkeyPatch.context() as patch, running_server() as server:
        forbid_outside_connections(patch)
        patch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.1")
        paragraphs = "".join(f"<p>{ARTICLE}</p>" for _ in range(4))
        server.route(
            "/news",
            text_reply(f"<html><body><article>{paragraphs}</article></body></html>", "text/html"),
        )
        yield server


@pytest.fixture(scope="module")
def fuzz_app(
    pg_database: str, tmp_path_factory: pytest.TempPathFactory, article_server: FakeServer
) -> Iterator[FastAPI]:
    """The app, started once for the module (its lifespan runs around all of its tests)."""
    settings_ = make_settings(
        tmp_path_factory.mktemp("fuzz"), emptied(pg_database), flushed_redis_url()
    )
    app = create_app(settings_)
    with TestClient(app):
        yield app


def started_elsewhere(app: ASGIApp) -> ASGIApp:
    """``app`` without its lifespan: schemathesis ends an app's lifespan after each test, which
    would close the app the whole module shares."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    return asgi


def owner_client(app: FastAPI) -> TestClient:
    """The owner's own client address: what the fuzzed sign-ins get throttled for is theirs."""
    return TestClient(app, client=("127.0.0.77", 50000))


@pytest.fixture(scope="module")
def world(fuzz_app: FastAPI, article_server: FakeServer) -> dict[str, Any]:
    """The ids of the organisation's rows, by the path parameter that names them."""
    http = owner_client(fuzz_app)
    tokens = http.post(
        "/api/v1/auth/register",
        json=OWNER,
    ).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}

    def made(path: str, body: dict[str, Any]) -> str:
        response = http.post(f"/api/v1{path}", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    me = http.get("/api/v1/users/me", headers=headers).json()
    # The built-in short at a fifth of its size: previews of it render in a moment.
    source = http.get("/api/v1/templates/short", headers=headers).json()["source"]
    source |= {"width": 216, "height": 384}
    template_id = made("/templates", {"name": "Own", "source": source})
    project_id = made("/projects", {"name": "Fuzzed", "template_id": template_id})
    channel_id = made(f"/projects/{project_id}/channels", {"platform": "local", "name": "Out"})
    source_id = made(f"/projects/{project_id}/sources", {"kind": "webhook", "name": "CMS"})
    content_id = made("/contents", {"project_id": project_id, "text": "A short article."})
    return {
        "source": source,
        "article_url": article_server.url("/news"),
        "org_id": me["org_id"],
        "user_id": me["id"],
        "project_id": project_id,
        "template_id": template_id,
        "channel_id": channel_id,
        "source_id": source_id,
        "content_id": content_id,
    }


@pytest.fixture
def owner_headers(fuzz_app: FastAPI, world: dict[str, Any]) -> dict[str, str]:
    """A session of its own for each operation (signing out or a password change by an
    earlier one ends only that one's). Once the account is deleted (its operation runs last),
    a new one with the same address."""
    http = owner_client(fuzz_app)
    for _ in range(3):
        response = http.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
        if response.status_code == 401:
            response = http.post("/api/v1/auth/register", json=OWNER)
        if response.status_code != 503:
            break
        # Redis slower than the limiter's timeout (a loaded machine): its breaker reopens soon.
        time.sleep(float(response.headers.get("Retry-After", "2")))
    assert response.status_code in (200, 201), response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def as_the_server_knows(world: dict[str, Any]) -> dict[str, Any]:
    """Hooks for valid data: what it names exists, each Idempotency-Key is new, a template is
    RenderScript the engine renders, an article URL serves an article."""

    def map_body(_ctx: Any, body: Any) -> Any:
        if not isinstance(body, dict):
            return body
        if "project_id" in body:
            body["project_id"] = world["project_id"]
        if body.get("template_id") is not None:
            body["template_id"] = world["template_id"]
        if body.get("channels"):
            body["channels"] = [world["channel_id"]]
        if "source" in body:
            body["source"] = copy.deepcopy(world["source"])
        if isinstance(body.get("url"), str) and "project_id" in body:
            body["url"] = world["article_url"]
        return body

    def map_headers(_ctx: Any, headers: Any) -> Any:
        if isinstance(headers, dict) and IDEMPOTENCY_KEY in headers:
            headers[IDEMPOTENCY_KEY] = uuid.uuid4().hex
        return headers

    def map_query(_ctx: Any, query: Any) -> Any:
        if isinstance(query, dict) and "modifications" in query:
            query["modifications"] = json.dumps({"Title.text": "Fuzzed"})
        return query

    return {"map_body": map_body, "map_headers": map_headers, "map_query": map_query}


def filter_body(ctx: Any, body: Any) -> bool:
    """Valid source bodies whose URL this server would fetch from (the guard decides by DNS
    and ``AUTOCLIP_FETCH_ALLOW_HOSTS``: no schema can say)."""
    url = body.get("url") if isinstance(body, dict) else None
    if (
        ctx.operation is None
        or ctx.operation.label != f"POST {SOURCES}"
        or not isinstance(url, str)
    ):
        return True
    try:
        check_url(url)
    except FetchRefusedError:
        return False
    except FetchError:
        return True  # does not resolve now: accepted (the fetcher checks every connection)
    return True


@pytest.fixture(scope="module")
def schemas(fuzz_app: FastAPI, world: dict[str, Any]) -> dict[GenerationMode, Any]:
    """The schema as each mode reads it: valid data told what the server knows."""
    app = started_elsewhere(fuzz_app)
    positive = schemathesis.openapi.from_asgi(OPENAPI, app, config=ALL_CHECKS)
    positive.hook(filter_body)
    for name, hook in as_the_server_knows(world).items():
        positive.hook(name)(hook)
    negative = schemathesis.openapi.from_asgi(OPENAPI, app, config=ALL_CHECKS)
    return {GenerationMode.POSITIVE: positive, GenerationMode.NEGATIVE: negative}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("label", LABELS)
def test_the_schema_states_the_rules_the_server_enforces(
    label: str,
    mode: GenerationMode,
    schemas: dict[GenerationMode, Any],
    world: dict[str, Any],
    owner_headers: dict[str, str],
) -> None:
    method, path = label.split(" ", 1)
    operation = schemas[mode][path][method]

    @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=DERANDOMIZE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case, real: bool) -> None:
        params = case.path_parameters or {}
        if real:
            for name in params.keys() & world.keys():
                params[name] = world[name]
        case.call_and_validate(headers=owner_headers)

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip("no invalid input exists for an operation without inputs")
