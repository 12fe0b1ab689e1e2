"""The route modules use ``from __future__ import annotations``: their Annotated dependency
aliases must still resolve to dependencies and bodies (not to query parameters)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

import autoclip_api
from autoclip_api.app import api_routes


def test_route_modules_use_postponed_annotations() -> None:
    root = Path(autoclip_api.__file__).parent
    modules = sorted(root.glob("*/endpoints.py"))
    assert len(modules) == 11
    for module in modules:
        assert "from __future__ import annotations" in module.read_text(), module


def test_annotations_resolve_to_dependencies_and_bodies(app: FastAPI) -> None:
    operations = app.openapi()["paths"]
    expected_query = {
        ("GET", "/api/v1/projects"): {"limit", "offset"},
        ("GET", "/api/v1/orgs/{org_id}/audit"): {"limit", "before"},
        ("GET", "/api/v1/templates"): {"limit", "offset"},
        ("GET", "/api/v1/templates/{template_id}/preview"): {"modifications", "time", "format"},
        ("GET", "/api/v1/contents"): {"project_id", "state", "language", "q", "cursor", "limit"},
        ("GET", "/api/v1/channels/oauth/{platform}/callback"): {
            "code",
            "state",
            "error",
            "error_description",
        },
    }
    for path, methods, route, dependant in api_routes(app):
        for method in methods:
            params = operations.get(path, {}).get(method.lower(), {}).get("parameters", [])
            query = {p["name"] for p in params if p["in"] == "query"}
            assert query == expected_query.get((method, path), set()), (method, path)
        # no dependency alias degraded into a plain parameter
        names = {p.name for p in dependant.query_params + dependant.header_params}
        assert not names & {"subject", "session", "api", "access", "credentials"}, route.path
    assert "requestBody" in operations["/api/v1/auth/register"]["post"]
    assert operations["/api/v1/projects"]["post"]["security"] == [{"HTTPBearer": []}]
