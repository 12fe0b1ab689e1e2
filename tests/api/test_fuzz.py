"""Schemathesis over the OpenAPI schema, authenticated, against the real stack (PostgreSQL +
Redis), as a signed-in owner. Path parameters naming an organisation or a project point at
real ones half of the time, so generated data also reaches the code behind the 404s.

Every operation: no input, valid (positive) or invalid (negative), produces a 5xx.

The operations of identity, organisations and sources: ALL of schemathesis's checks pass, so
the schema states the rules the server enforces — valid data is accepted (no 400/422), invalid
data refused, only documented status codes, headers and bodies. What JSON Schema cannot say is
told to the generator, not hidden from the checks: the password policy beyond its length
(a strength estimate, "not your name") through the standard ``password`` format, and a
source's destination (resolved by DNS when it is created) by leaving out URLs whose host the
fetcher's guard refuses. A 413 (body over 1 MiB) counts as a rejection of invalid data.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from starlette.testclient import TestClient

from autoclip_api.app import create_app
from autoclip_core.db.migrate import upgrade
from autoclip_core.fetch import FetchError, FetchRefusedError, check_url
from autoclip_core.settings import Settings
from tests.api.conftest import FAST_HASHING, JWT_SECRET
from tests.api.helpers import PASSWORD

OPENAPI = "/api/v1/openapi.json"
STATED = ("/api/v1/auth/", "/api/v1/users/", "/api/v1/orgs", "/api/v1/invitations/",
          "/api/v1/projects/{project_id}/sources", "/api/v1/healthz", "/api/v1/readyz")  # fmt: skip
"""The operations checked with all checks (paths starting so)."""
SOURCES = "/api/v1/projects/{project_id}/sources"
# Hangul syllables 37 code points apart: no repeats, no runs ("abc"), in no dictionary and no
# one's name — what the policy's strength estimate rates as strong.
_SYLLABLES = [chr(c) for c in range(0xAC00, 0xD7A4, 37)]
STRONG_PASSWORDS = st.lists(st.sampled_from(_SYLLABLES), min_size=12, max_size=20, unique=True)
schemathesis.openapi.format("password", STRONG_PASSWORDS.map("".join))


def _operation_labels() -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
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
            return [result.ok().label for result in schema.get_all_operations()]
        finally:
            app.state.api.close()


LABELS = _operation_labels()


@pytest.fixture
def fuzz_app(app_factory: Callable[..., FastAPI]) -> FastAPI:
    return app_factory()


@pytest.fixture
def fuzz_owner(fuzz_app: FastAPI) -> dict[str, Any]:
    http = TestClient(fuzz_app)
    tokens = http.post(
        "/api/v1/auth/register",
        json={"email": "fuzz@example.com", "password": PASSWORD, "name": "F", "org_name": "F"},
    ).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = http.get("/api/v1/users/me", headers=headers).json()
    project = http.post("/api/v1/projects", json={"name": "Fuzzed"}, headers=headers).json()
    return {"headers": headers, "org_id": me["org_id"], "project_id": project["id"]}


def _fuzz(
    label: str,
    mode: GenerationMode,
    app: FastAPI,
    owner: dict[str, Any],
    *,
    checks: list[Any] | None,
    config: SchemathesisConfig | None = None,
) -> None:
    method, path = label.split(" ", 1)
    schema = schemathesis.openapi.from_asgi(OPENAPI, app, config=config)
    if checks is None and path == SOURCES and method == "POST":
        schema.hook(filter_body)
    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(case: schemathesis.Case, real: bool) -> None:
        params = case.path_parameters or {}
        if real and "org_id" in params:
            params["org_id"] = owner["org_id"]
        if real and "project_id" in params:
            params["project_id"] = owner["project_id"]
        case.call_and_validate(headers=owner["headers"], checks=checks)

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip("no invalid input exists for an operation without inputs")


def filter_body(_ctx: Any, body: Any) -> bool:
    """Valid source bodies whose URL this server would fetch from (the guard decides by DNS
    and ``AUTOCLIP_FETCH_ALLOW_HOSTS``: no schema can say)."""
    url = body.get("url") if isinstance(body, dict) else None
    if not isinstance(url, str):
        return True
    try:
        check_url(url)
    except FetchRefusedError:
        return False
    except FetchError:
        return True  # does not resolve now: accepted (the fetcher checks every connection)
    return True


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("label", LABELS)
def test_no_input_produces_a_server_error(
    label: str, mode: GenerationMode, fuzz_app: FastAPI, fuzz_owner: dict[str, Any]
) -> None:
    _fuzz(label, mode, fuzz_app, fuzz_owner, checks=[not_a_server_error])


ALL_CHECKS = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [
        "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx",
    ]}}}
)  # fmt: skip


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(
    "label", [label for label in LABELS if label.split(" ", 1)[1].startswith(STATED)]
)
def test_the_schema_states_the_rules_the_server_enforces(
    label: str, mode: GenerationMode, fuzz_app: FastAPI, fuzz_owner: dict[str, Any]
) -> None:
    _fuzz(label, mode, fuzz_app, fuzz_owner, checks=None, config=ALL_CHECKS)
