"""Every error the API answers is an RFC 9457 problem (``application/problem+json``), and the
OpenAPI document says so for every operation."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from autoclip_api.core.responses import Problem, json_pointer, validation_errors
from tests.api.conftest import client_for
from tests.api.helpers import ApiClient, problem

pytestmark = pytest.mark.anyio

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = {"schema": {"$ref": "#/components/schemas/Problem"}}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = dict(response.json())
    assert set(body) <= set(Problem.model_fields), body
    Problem.model_validate(body)  # the documented schema
    assert (body["type"], body["title"], body["status"]) == (
        "about:blank",
        problem(status, "")["title"],
        status,
    )
    return body


# the pointer in each invalid input -------------------------------------------------------------


def test_json_pointers_escape_tilde_slash_and_non_fragment_characters() -> None:
    assert json_pointer([]) == "#"
    assert json_pointer(["items", 0, "url"]) == "#/items/0/url"
    assert json_pointer(["a/b", "m~n", "é x"]) == "#/a~1b/m~0n/%C3%A9%20x"


def test_union_member_labels_are_not_part_of_the_pointer() -> None:
    body = {"kind": "json_api", "mapping": {"items": "!"}, "list": [{}, {"url": 1}]}
    errors = [
        {"type": "string_pattern_mismatch", "loc": ("body", "json_api", "mapping", "items")},
        {"type": "missing", "loc": ("body", "json_api", "name")},
        {"type": "url_type", "loc": ("body", "list", 1, "url")},
        {"type": "int_parsing", "loc": ("query", "limit")},
        {"type": "json_invalid", "loc": ("body", 47), "msg": "JSON decode error",
         "ctx": {"error": "Expecting ',' delimiter"}},
    ]  # fmt: skip
    items = validation_errors(errors, body)
    assert [(e["location"], e["pointer"]) for e in items] == [
        ("body", "#/mapping/items"),
        ("body", "#/name"),
        ("body", "#/list/1/url"),
        ("query", "#/limit"),
        ("body", "#"),
    ]
    assert items[-1]["detail"] == "JSON decode error: Expecting ',' delimiter at character 47"


# every kind of error --------------------------------------------------------------------------


async def test_framework_errors_are_problems(client: ApiClient) -> None:
    unauthenticated = await client.get("/api/v1/users/me")
    assert assert_problem(unauthenticated, 401) == problem(401, "Not authenticated")
    assert unauthenticated.headers["www-authenticate"] == "Bearer"

    unrouted = await client.get("/api/v1/nowhere")
    assert assert_problem(unrouted, 404) == problem(404, "Not Found")

    wrong_method = await client.put("/api/v1/users/me")
    assert assert_problem(wrong_method, 405) == problem(405, "Method Not Allowed")
    assert "GET" in wrong_method.headers["allow"]  # the header survives


async def test_the_apps_own_errors_are_problems_with_their_detail(client: ApiClient) -> None:
    owner = await client.register()
    missing = await client.get("/api/v1/projects/" + "0" * 32, headers=owner.headers)
    assert assert_problem(missing, 404) == problem(404, "Project not found")
    viewer = await client.member(owner, "viewer")
    refused = await client.post("/api/v1/projects", json={"name": "x"}, headers=viewer.headers)
    assert assert_problem(refused, 403) == problem(403, "Your role does not allow projects.create")
    taken = await client.post(
        "/api/v1/auth/register",
        json={"email": owner.email, "password": owner.password, "name": "A", "org_name": "A"},
    )
    assert assert_problem(taken, 409) == problem(409, "Email already registered")


async def test_invalid_bodies_list_each_input_by_json_pointer(client: ApiClient) -> None:
    owner = await client.register()
    project = await client.project(owner)
    response = await client.post(
        f"/api/v1/projects/{project['id']}/sources",
        json={
            "kind": "json_api",
            "url": "https://api.example.com/items",
            "mapping": {"items": "no spaces allowed", "title": "title"},
            "max_pages": 11,
        },
        headers=owner.headers,
    )
    body = assert_problem(response, 422)
    assert body["detail"] == "The request is invalid; see errors"
    found = {(e["location"], e["pointer"], e["type"]) for e in body["errors"]}
    assert found == {
        ("body", "#/name", "missing"),
        ("body", "#/mapping/items", "string_pattern_mismatch"),
        ("body", "#/max_pages", "less_than_equal"),
    }
    assert all(e["detail"] for e in body["errors"])
    assert "no spaces allowed" not in response.text  # the submitted value is never echoed


async def test_invalid_query_parameters_are_pointed_at_in_the_query(client: ApiClient) -> None:
    owner = await client.register()
    response = await client.get("/api/v1/projects?limit=-1", headers=owner.headers)
    body = assert_problem(response, 422)
    assert [(e["location"], e["pointer"]) for e in body["errors"]] == [("query", "#/limit")]


async def test_a_rate_limited_request_is_a_problem_with_retry_after(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(api_rate_limit_per_minute=1)
    async with client_for(app) as http:
        account = await ApiClient(http).register()
        await http.get("/api/v1/users/me", headers=account.headers)
        limited = await http.get("/api/v1/users/me", headers=account.headers)
    assert assert_problem(limited, 429) == problem(429, "Rate limit exceeded")
    assert int(limited.headers["retry-after"]) >= 1


async def test_a_refused_cors_preflight_is_a_problem(client: ApiClient) -> None:
    response = await client.options(
        "/api/v1/projects",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert assert_problem(response, 400) == problem(400, "Disallowed CORS origin")
    assert "access-control-allow-origin" not in response.headers


# the OpenAPI document -------------------------------------------------------------------------


def test_every_operation_documents_its_errors_as_problems(app: FastAPI) -> None:
    schema = app.openapi()
    components = schema["components"]["schemas"]
    assert components["Problem"]["required"] == ["title", "status", "detail"]
    assert set(components["Problem"]["properties"]) == set(Problem.model_fields)
    assert {"pointer", "location", "detail", "type"} <= set(
        components["ProblemError"]["properties"]
    )
    assert "HTTPValidationError" not in components
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            errors = {code: r for code, r in responses.items() if int(code) >= 400}
            assert "500" in errors, (method, path)
            if "requestBody" in operation:
                assert {"413", "422"} <= set(errors), (method, path)
            if operation.get("parameters"):
                assert "422" in errors, (method, path)
            for code, response in errors.items():
                if (path, code) == ("/api/v1/readyz", "503"):
                    continue  # the readiness report itself, checks and all
                assert response["content"] == {PROBLEM_JSON: PROBLEM_REF}, (method, path, code)


async def test_an_unsupported_method_is_405_with_every_method_of_the_path_in_allow(
    app: FastAPI, client: ApiClient
) -> None:
    """RFC 9110 §15.5.6: the router names only the route it tried first (GET of
    ``/api/v1/projects``, which also has POST); the answer lists them all — those of every
    documented path the request's path matches (``/members/me`` is a ``/members/{user_id}``
    too)."""
    paths = app.openapi()["paths"]
    templates = {
        re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"): path
        for path in paths
    }
    for path in paths:
        concrete = re.sub(r"\{[^}]+\}", "0" * 32, path)
        allowed = {
            method.upper()
            for regex, template in templates.items()
            if regex.match(concrete)
            for method in paths[template]
        }
        unsupported = next(m for m in ("PUT", "PATCH", "DELETE", "POST", "GET") if m not in allowed)
        response = await client.request(unsupported, concrete)
        assert response.status_code == 405, (unsupported, path)
        assert set(response.headers["allow"].split(", ")) == allowed, path
        assert response.headers["content-type"] == "application/problem+json"
