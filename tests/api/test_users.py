"""GET/PATCH/DELETE /users/me."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select

from autoclip_core.db.models import AuthSession, Membership, Organization, Project, User
from tests.api.helpers import ApiClient

pytestmark = pytest.mark.anyio


async def test_me_shows_identity_org_role_and_permissions(client: ApiClient) -> None:
    owner = await client.register()
    viewer = await client.member(owner, "viewer")
    me = (await client.get("/api/v1/users/me", headers=viewer.headers)).json()
    assert me == {
        "id": viewer.user_id,
        "email": viewer.email,
        "email_verified": True,  # invitations are accepted with a proven address
        "sign_in_methods": ["password"],
        "name": "Test User",
        "org_id": owner.org_id,
        "role": "viewer",
        "permissions": ["analytics.read", "projects.read"],
    }


async def test_patch_changes_the_name(client: ApiClient) -> None:
    account = await client.register()
    response = await client.patch(
        "/api/v1/users/me", json={"name": "  Grace Hopper "}, headers=account.headers
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Grace Hopper"
    for bad in ({"name": ""}, {"name": None}, {"email": "new@example.com"}, {"name": "a\x00b"}):
        response = await client.patch("/api/v1/users/me", json=bad, headers=account.headers)
        assert response.status_code == 422, bad


async def test_password_change_needs_the_current_one_and_ends_other_sessions(
    client: ApiClient,
) -> None:
    account = await client.register()
    other = await client.login(account)
    new = "a brand new passphrase"
    refused = await client.patch(
        "/api/v1/users/me",
        json={"password": new, "current_password": "not it at all"},
        headers=account.headers,
    )
    assert refused.status_code == 403
    missing = await client.patch(
        "/api/v1/users/me", json={"password": new}, headers=account.headers
    )
    assert missing.status_code == 403
    weak = await client.patch(
        "/api/v1/users/me",
        json={"password": "password12", "current_password": account.password},
        headers=account.headers,
    )
    assert weak.status_code == 422
    changed = await client.patch(
        "/api/v1/users/me",
        json={"password": new, "current_password": account.password},
        headers=account.headers,
    )
    assert changed.status_code == 200
    assert (await client.get("/api/v1/users/me", headers=account.headers)).status_code == 200
    assert (await client.get("/api/v1/users/me", headers=other.headers)).status_code == 401
    old_login = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert old_login.status_code == 401
    new_login = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": new}
    )
    assert new_login.status_code == 200


async def test_delete_removes_the_user_their_org_and_projects_and_sessions(
    client: ApiClient, pg_url: str
) -> None:
    account = await client.register()
    other_session = await client.login(account)
    await client.project(account)
    response = await client.delete("/api/v1/users/me", headers=account.headers)
    assert response.status_code == 204
    for headers in (account.headers, other_session.headers):
        assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 401
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": other_session.refresh_token}
    )
    assert refresh.status_code == 401
    login = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert login.status_code == 401
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        for model in (User, Organization, Membership, AuthSession, Project):
            assert conn.scalar(select(func.count()).select_from(model)) == 0, model
    engine.dispose()
    # the email is free again
    await client.register(email=account.email)


async def test_delete_is_refused_for_the_last_owner_of_an_org_with_members(
    client: ApiClient,
) -> None:
    owner = await client.register()
    editor = await client.member(owner, "editor")
    response = await client.delete("/api/v1/users/me", headers=owner.headers)
    assert response.status_code == 409
    assert "last owner" in response.json()["detail"]
    assert (await client.get("/api/v1/users/me", headers=owner.headers)).status_code == 200

    # once someone else owns it (they accepted that role), the owner can leave; the org and
    # its projects stay
    await client.join(owner, editor, "owner")
    project = await client.project(editor)
    assert (await client.delete("/api/v1/users/me", headers=owner.headers)).status_code == 204
    still = await client.get(f"/api/v1/projects/{project['id']}", headers=editor.headers)
    assert still.status_code == 200
    members = (
        await client.get(f"/api/v1/orgs/{owner.org_id}/members", headers=editor.headers)
    ).json()
    assert [m["user_id"] for m in members["items"]] == [editor.user_id]


async def test_a_member_who_is_not_the_last_owner_can_delete_themselves(
    client: ApiClient,
) -> None:
    owner = await client.register()
    viewer = await client.member(owner, "viewer")
    assert (await client.delete("/api/v1/users/me", headers=viewer.headers)).status_code == 204
    members = (
        await client.get(f"/api/v1/orgs/{owner.org_id}/members", headers=owner.headers)
    ).json()
    assert members["total"] == 1
