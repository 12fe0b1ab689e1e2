"""Schemathesis over the OpenAPI schema, authenticated: no input produces a 5xx.

Every operation is fuzzed with valid (positive) and invalid (negative) data against the real
stack (PostgreSQL + Redis), as a signed-in owner. Path parameters naming an organisation or a
project point at real ones half of the time, so generated data also reaches the code behind
the 404s.
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
from starlette.testclient import TestClient

from autoclip_api.app import create_app
from autoclip_core.db.migrate import upgrade
from autoclip_core.settings import Settings
from tests.api.conftest import FAST_HASHING, JWT_SECRET
from tests.api.helpers import PASSWORD

OPENAPI = "/api/v1/openapi.json"


def _operation_labels() -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'app.db'}"
        upgrade(url)
        app = create_app(
            Settings(env="test", database_url=url, jwt_secret=JWT_SECRET, **FAST_HASHING)
        )
        try:
            schema = schemathesis.openapi.from_asgi(OPENAPI, app)
            return [result.ok().label for result in schema.get_all_operations()]
        finally:
            app.state.api.close()


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


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("label", _operation_labels())
def test_no_input_produces_a_server_error(
    label: str, mode: GenerationMode, fuzz_app: FastAPI, fuzz_owner: dict[str, Any]
) -> None:
    method, path = label.split(" ", 1)
    operation = schemathesis.openapi.from_asgi(OPENAPI, fuzz_app)[path][method]

    @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(case: schemathesis.Case, real: bool) -> None:
        params = case.path_parameters or {}
        if real and "org_id" in params:
            params["org_id"] = fuzz_owner["org_id"]
        if real and "project_id" in params:
            params["project_id"] = fuzz_owner["project_id"]
        case.call_and_validate(headers=fuzz_owner["headers"], checks=[not_a_server_error])

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip("no invalid input exists for an operation without inputs")
