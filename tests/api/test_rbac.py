"""RBAC: one permission table, a declared guard on every route, fresh roles."""

from __future__ import annotations

import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, delete

from autoclip_api.app import api_routes, route_policy
from autoclip_api.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from autoclip_core.db.models import Membership
from tests.api.helpers import ApiClient, problem

# The product's role matrix, written out by hand: the table must be exactly this.
MATRIX = {
    "projects.create": {"owner", "admin"},
    "projects.read": {"owner", "admin", "editor", "viewer"},
    "projects.update": {"owner", "admin"},
    "projects.delete": {"owner", "admin"},
    "contents.create": {"owner", "admin", "editor"},
    "contents.approve": {"owner", "admin"},
    "contents.publish": {"owner", "admin", "editor"},
    "analytics.read": {"owner", "admin", "editor", "viewer"},
    "settings.modify": {"owner"},
}

EXPECTED_POLICIES = {
    ("POST", "/api/v1/auth/register"): "public",
    ("POST", "/api/v1/auth/login"): "public",
    ("POST", "/api/v1/auth/refresh"): "public",
    ("POST", "/api/v1/auth/logout"): "authenticated",
    ("POST", "/api/v1/auth/oauth/{provider}/authorize"): "public",
    ("POST", "/api/v1/auth/oauth/{provider}"): "public",
    ("POST", "/api/v1/auth/verify-email/request"): "authenticated",
    ("POST", "/api/v1/auth/verify-email"): "public",
    ("POST", "/api/v1/auth/password/forgot"): "public",
    ("POST", "/api/v1/auth/password/reset"): "public",
    ("POST", "/api/v1/auth/reauthenticate"): "authenticated",
    ("POST", "/api/v1/users/me/email"): "authenticated",
    ("POST", "/api/v1/users/me/identities/{provider}"): "authenticated",
    ("DELETE", "/api/v1/users/me/identities/{provider}"): "authenticated",
    ("GET", "/api/v1/users/me"): "authenticated",
    ("PATCH", "/api/v1/users/me"): "authenticated",
    ("DELETE", "/api/v1/users/me"): "authenticated",
    ("GET", "/api/v1/orgs"): "authenticated",
    ("GET", "/api/v1/users/me/invitations"): "authenticated",
    ("GET", "/api/v1/orgs/{org_id}/audit"): "settings.modify (in {org_id})",
    ("GET", "/api/v1/orgs/{org_id}/members"): "settings.modify (in {org_id})",
    ("DELETE", "/api/v1/orgs/{org_id}/members/me"): "member (in {org_id})",
    ("PATCH", "/api/v1/orgs/{org_id}/members/{user_id}"): "settings.modify (in {org_id})",
    ("DELETE", "/api/v1/orgs/{org_id}/members/{user_id}"): "settings.modify (in {org_id})",
    ("POST", "/api/v1/orgs/{org_id}/invitations"): "settings.modify (in {org_id})",
    ("GET", "/api/v1/orgs/{org_id}/invitations"): "settings.modify (in {org_id})",
    ("DELETE", "/api/v1/orgs/{org_id}/invitations/{invitation_id}"): (
        "settings.modify (in {org_id})"
    ),
    ("POST", "/api/v1/invitations/{invitation_id}/accept"): "authenticated",
    ("POST", "/api/v1/invitations/{invitation_id}/decline"): "authenticated",
    ("GET", "/api/v1/projects"): "projects.read",
    ("POST", "/api/v1/projects"): "projects.create",
    ("GET", "/api/v1/projects/{project_id}"): "projects.read",
    ("PATCH", "/api/v1/projects/{project_id}"): "projects.update",
    ("DELETE", "/api/v1/projects/{project_id}"): "projects.delete",
    ("GET", "/api/v1/projects/{project_id}/sources"): "projects.read",
    ("POST", "/api/v1/projects/{project_id}/sources"): "projects.update",
    ("GET", "/api/v1/projects/{project_id}/sources/{source_id}"): "projects.read",
    ("DELETE", "/api/v1/projects/{project_id}/sources/{source_id}"): "projects.update",
    ("POST", "/api/v1/projects/{project_id}/sources/{source_id}/items"): (
        "webhook signature (HMAC-SHA256)"
    ),
    ("GET", "/api/v1/contents"): "projects.read",
    ("POST", "/api/v1/contents"): "contents.create",
    ("GET", "/api/v1/contents/{content_id}"): "projects.read",
    ("PATCH", "/api/v1/contents/{content_id}"): "contents.create",
    ("DELETE", "/api/v1/contents/{content_id}"): "contents.create",
    ("POST", "/api/v1/contents/{content_id}/generate"): "contents.create",
    ("POST", "/api/v1/contents/{content_id}/approve"): "contents.approve",
    ("POST", "/api/v1/contents/{content_id}/reject"): "contents.approve",
    ("POST", "/api/v1/contents/{content_id}/publish"): "contents.publish",
    ("GET", "/api/v1/contents/{content_id}/jobs"): "projects.read",
    ("GET", "/api/v1/contents/{content_id}/uploads"): "projects.read",
    ("GET", "/api/v1/projects/{project_id}/channels"): "projects.read",
    ("POST", "/api/v1/projects/{project_id}/channels"): "projects.update",
    ("DELETE", "/api/v1/projects/{project_id}/channels/{channel_id}"): "projects.update",
    ("POST", "/api/v1/projects/{project_id}/channels/{channel_id}/authorize"): "projects.update",
    ("GET", "/api/v1/channels/oauth/{platform}/callback"): (
        "OAuth state (single use, bound to organisation and channel)"
    ),
    ("POST", "/api/v1/webhooks/creatomate/{token}"): "render address (HMAC-SHA256 token)",
    ("GET", "/api/v1/templates"): "projects.read",
    ("POST", "/api/v1/templates"): "projects.update",
    ("GET", "/api/v1/templates/{template_id}"): "projects.read",
    ("PATCH", "/api/v1/templates/{template_id}"): "projects.update",
    ("DELETE", "/api/v1/templates/{template_id}"): "projects.update",
    ("GET", "/api/v1/templates/{template_id}/preview"): "projects.read",
    ("GET", "/api/v1/contents/{content_id}/media/{kind}"): "projects.read",
    ("HEAD", "/api/v1/contents/{content_id}/media/{kind}"): "projects.read",
    ("GET", "/api/v1/healthz"): "public",
    ("GET", "/api/v1/readyz"): "public",
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
}


def test_permission_table_is_exactly_the_role_matrix() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert {p.value for p in Permission} == set(MATRIX)
    for permission, roles in MATRIX.items():
        granted = {role.value for role, perms in ROLE_PERMISSIONS.items() if permission in perms}
        assert granted == roles, permission


def test_every_route_declares_its_permission(app: FastAPI) -> None:
    undeclared = [
        (sorted(methods), path)
        for path, methods, _, dependant in api_routes(app)
        if route_policy(dependant) is None
    ]
    assert undeclared == [], f"routes without a guard: {undeclared}"
    declared = {
        (method, path): route_policy(dependant)
        for path, methods, _, dependant in api_routes(app)
        for method in methods
    }
    assert declared == EXPECTED_POLICIES


def test_openapi_shows_each_operations_permission(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for (method, path), policy in EXPECTED_POLICIES.items():
        if path.startswith("/api/v1"):
            assert paths[path][method.lower()]["x-permission"] == policy


PROJECT_CALLS = {
    "create": ("POST", "/api/v1/projects", {"name": "New"}),
    "list": ("GET", "/api/v1/projects", None),
    "read": ("GET", "/api/v1/projects/{id}", None),
    "update": ("PATCH", "/api/v1/projects/{id}", {"name": "Renamed"}),
    "delete": ("DELETE", "/api/v1/projects/{id}", None),
}
ALLOWED = {
    "owner": {"create", "list", "read", "update", "delete"},
    "admin": {"create", "list", "read", "update", "delete"},
    "editor": {"list", "read"},
    "viewer": {"list", "read"},
}


@pytest.mark.anyio
@pytest.mark.parametrize("role", ["owner", "admin", "editor", "viewer"])
async def test_project_routes_follow_the_matrix(client: ApiClient, role: str) -> None:
    owner = await client.register()
    actor = owner if role == "owner" else await client.member(owner, role)
    for action, (method, path, body) in PROJECT_CALLS.items():
        project = await client.project(owner)
        response = await client.request(
            method, path.format(id=project["id"]), json=body, headers=actor.headers
        )
        if action in ALLOWED[role]:
            assert response.status_code < 300, (role, action, response.text)
        else:
            assert response.status_code == 403, (role, action)
            assert response.json()["detail"].startswith("Your role does not allow")


@pytest.mark.anyio
@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
async def test_member_management_needs_settings_modify(client: ApiClient, role: str) -> None:
    owner = await client.register()
    actor = await client.member(owner, role)
    third = await client.register()
    base = f"/api/v1/orgs/{owner.org_id}/members"
    invitations = f"/api/v1/orgs/{owner.org_id}/invitations"
    calls = [
        ("GET", base, None),
        ("POST", invitations, {"email": third.email, "role": "viewer"}),
        ("GET", invitations, None),
        ("DELETE", f"{invitations}/{'0' * 32}", None),
        ("PATCH", f"{base}/{owner.user_id}", {"role": "viewer"}),
        ("DELETE", f"{base}/{owner.user_id}", None),
    ]
    for method, path, body in calls:
        response = await client.request(method, path, json=body, headers=actor.headers)
        assert response.status_code == 403, (role, method, path)


@pytest.mark.anyio
async def test_role_change_applies_on_the_next_request(client: ApiClient) -> None:
    owner = await client.register()
    editor = await client.member(owner, "editor")
    members = f"/api/v1/orgs/{owner.org_id}/members/{editor.user_id}"

    create = ("/api/v1/projects", {"name": "By the member"})
    assert (await client.post(create[0], json=create[1], headers=editor.headers)).status_code == 403

    await client.patch(members, json={"role": "admin"}, headers=owner.headers)
    # the same access token, minted while an editor: the new role counts at once
    assert (await client.post(create[0], json=create[1], headers=editor.headers)).status_code == 201
    me = (await client.get("/api/v1/users/me", headers=editor.headers)).json()
    assert me["role"] == "admin"
    assert "projects.create" in me["permissions"]

    await client.patch(members, json={"role": "viewer"}, headers=owner.headers)
    assert (await client.post(create[0], json=create[1], headers=editor.headers)).status_code == 403
    assert (await client.get("/api/v1/projects", headers=editor.headers)).status_code == 200

    await client.delete(members, headers=owner.headers)
    assert (await client.get("/api/v1/projects", headers=editor.headers)).status_code == 401


@pytest.mark.anyio
async def test_refresh_after_a_role_change_carries_the_new_role(client: ApiClient) -> None:
    owner = await client.register()
    editor = await client.member(owner, "editor")
    await client.patch(
        f"/api/v1/orgs/{owner.org_id}/members/{editor.user_id}",
        json={"role": "viewer"},
        headers=owner.headers,
    )
    response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": editor.refresh_token}
    )
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["role"] == "viewer"
    assert claims["permissions"] == ["analytics.read", "projects.read"]


@pytest.mark.anyio
async def test_removed_member_signs_in_to_their_own_organisation(client: ApiClient) -> None:
    owner = await client.register()
    member = await client.member(owner, "viewer")
    await client.delete(
        f"/api/v1/orgs/{owner.org_id}/members/{member.user_id}", headers=owner.headers
    )
    relogged = await client.login(member)
    assert relogged.org_id != owner.org_id
    assert relogged.claims["role"] == "owner"


@pytest.mark.anyio
async def test_user_without_any_organisation_gets_no_permissions(
    client: ApiClient, pg_url: str
) -> None:
    account = await client.register()
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(delete(Membership).where(Membership.user_id == account.user_id))
    engine.dispose()
    orphan = await client.login(account)
    assert orphan.claims["org_id"] is None
    assert orphan.claims["role"] is None
    assert orphan.claims["permissions"] == []
    me = (await client.get("/api/v1/users/me", headers=orphan.headers)).json()
    assert (me["org_id"], me["role"], me["permissions"]) == (None, None, [])
    response = await client.get("/api/v1/projects", headers=orphan.headers)
    assert response.status_code == 403
    assert response.json() == problem(403, "No organisation selected: sign in with an organisation")
