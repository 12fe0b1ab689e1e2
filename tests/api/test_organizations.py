"""Members of an organisation: list, add, change role, remove (owner only)."""

from __future__ import annotations

import pytest

from tests.api.helpers import ApiClient, problem

pytestmark = pytest.mark.anyio


async def test_owner_manages_members(client: ApiClient) -> None:
    owner = await client.register()
    user = await client.register()
    base = f"/api/v1/orgs/{owner.org_id}/members"

    added = await client.post(
        base, json={"email": user.email.upper(), "role": "editor"}, headers=owner.headers
    )
    assert added.status_code == 201
    assert added.json()["user_id"] == user.user_id
    assert added.json()["role"] == "editor"

    listed = (await client.get(base, headers=owner.headers)).json()
    assert listed["total"] == 2
    assert [(m["email"], m["role"]) for m in listed["items"]] == [
        (owner.email, "owner"),
        (user.email, "editor"),
    ]
    assert set(listed["items"][0]) == {"user_id", "email", "name", "role", "joined_at"}

    changed = await client.patch(
        f"{base}/{user.user_id}", json={"role": "admin"}, headers=owner.headers
    )
    assert changed.status_code == 200
    assert changed.json()["role"] == "admin"

    removed = await client.delete(f"{base}/{user.user_id}", headers=owner.headers)
    assert removed.status_code == 204
    assert (await client.get(base, headers=owner.headers)).json()["total"] == 1


async def test_member_errors(client: ApiClient) -> None:
    owner = await client.register()
    user = await client.register()
    base = f"/api/v1/orgs/{owner.org_id}/members"
    unknown = await client.post(
        base, json={"email": "nobody@example.com", "role": "viewer"}, headers=owner.headers
    )
    assert unknown.status_code == 404
    await client.post(base, json={"email": user.email, "role": "viewer"}, headers=owner.headers)
    again = await client.post(
        base, json={"email": user.email, "role": "admin"}, headers=owner.headers
    )
    assert again.status_code == 409
    bad_role = await client.post(
        base, json={"email": user.email, "role": "superuser"}, headers=owner.headers
    )
    assert bad_role.status_code == 422
    for user_id in ("0" * 32, "not-an-id"):
        missing = await client.patch(
            f"{base}/{user_id}", json={"role": "viewer"}, headers=owner.headers
        )
        assert missing.status_code == 404
        assert (await client.delete(f"{base}/{user_id}", headers=owner.headers)).status_code == 404


async def test_the_last_owner_can_be_neither_demoted_nor_removed(client: ApiClient) -> None:
    owner = await client.register()
    base = f"/api/v1/orgs/{owner.org_id}/members/{owner.user_id}"
    demote = await client.patch(base, json={"role": "admin"}, headers=owner.headers)
    assert demote.status_code == 409
    assert demote.json() == problem(409, "An organisation needs at least one owner")
    assert (await client.delete(base, headers=owner.headers)).status_code == 409

    second = await client.member(owner, "owner")
    assert (
        await client.patch(base, json={"role": "admin"}, headers=owner.headers)
    ).status_code == 200
    # now the first one is an admin: member management is no longer theirs
    refused = await client.get(f"/api/v1/orgs/{owner.org_id}/members", headers=owner.headers)
    assert refused.status_code == 403
    assert (
        await client.get(f"/api/v1/orgs/{owner.org_id}/members", headers=second.headers)
    ).status_code == 200


async def test_removing_a_member_ends_their_sessions_in_that_org(client: ApiClient) -> None:
    owner = await client.register()
    member = await client.member(owner, "admin")
    own_org = await client.login(member)  # the member's session in their own org
    await client.delete(
        f"/api/v1/orgs/{owner.org_id}/members/{member.user_id}", headers=owner.headers
    )
    assert (await client.get("/api/v1/users/me", headers=member.headers)).status_code == 401
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": member.refresh_token}
    )
    assert refresh.status_code == 401
    assert (await client.get("/api/v1/users/me", headers=own_org.headers)).status_code == 200


async def test_owner_of_one_org_manages_it_from_a_session_in_another(client: ApiClient) -> None:
    alice = await client.register(org_name="Alice's")
    bob = await client.register(org_name="Bob's")
    await client.post(
        f"/api/v1/orgs/{bob.org_id}/members",
        json={"email": alice.email, "role": "viewer"},
        headers=bob.headers,
    )
    bob_in_alice = await client.login(bob)  # Bob's session is in his own org
    response = await client.get(f"/api/v1/orgs/{bob.org_id}/members", headers=bob_in_alice.headers)
    assert response.status_code == 200
    # Alice (a viewer in Bob's org) cannot, whatever org her session is in
    refused = await client.get(f"/api/v1/orgs/{bob.org_id}/members", headers=alice.headers)
    assert refused.status_code == 403
