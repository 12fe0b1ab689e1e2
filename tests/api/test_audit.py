"""The security audit log, read by an organisation's owners: the organisation's own events
and its members' account events, never anyone else's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from tests.api.conftest import client_for, outbox_of
from tests.api.helpers import Account, ApiClient

pytestmark = pytest.mark.anyio


async def _audit(client: ApiClient, owner: Account, **query: Any) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/orgs/{owner.org_id}/audit", params=query, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_owners_read_their_orgs_events_and_their_members_account_events(
    client: ApiClient,
) -> None:
    owner = await client.register(org_name="Acme")
    member = await client.member(owner, "editor")  # invited, verified, accepted, signed in
    stranger = await client.register(org_name="Elsewhere")
    await client.login(member)  # into the member's own organisation: not Acme's business
    wrong = {"email": member.email, "password": "not the password!"}
    assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
    await client.post(
        "/api/v1/auth/login", json={"email": stranger.email, "password": "not it either"}
    )
    await client.patch(
        f"/api/v1/orgs/{owner.org_id}/members/{member.user_id}",
        json={"role": "viewer"},
        headers=owner.headers,
    )

    page = await _audit(client, owner)
    events = [(e["event"], e["user_id"]) for e in page["items"]]
    assert events == [
        ("member.role_changed", member.user_id),
        ("login.failed", member.user_id),
        ("login.succeeded", member.user_id),  # the sign-in into Acme
        ("invitation.accepted", member.user_id),
        ("email.verified", member.user_id),
        ("invitation.created", None),
        ("account.created", owner.user_id),  # signed in by the sign-up
    ]
    changed = page["items"][0]
    assert changed["actor_id"] == owner.user_id
    assert changed["details"] == {"old_role": "editor", "new_role": "viewer"}
    assert page["items"][1]["client_ip"] == "127.0.0.1"
    assert page["next_before"] is None
    assert stranger.user_id not in str(page)


async def test_the_log_is_paged_newest_first_and_for_owners_only(client: ApiClient) -> None:
    owner = await client.register()
    for _ in range(3):
        await client.login(owner)
    first = await _audit(client, owner, limit=2)
    second = await _audit(client, owner, limit=2, before=first["next_before"])
    assert second["next_before"] is None
    ids = [e["id"] for page in (first, second) for e in page["items"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == len(set(ids)) == 4  # created (and signed in), three sign-ins

    viewer = await client.member(owner, "viewer")
    response = await client.get(f"/api/v1/orgs/{owner.org_id}/audit", headers=viewer.headers)
    assert response.status_code == 403
    stranger = await client.register()
    response = await client.get(f"/api/v1/orgs/{owner.org_id}/audit", headers=stranger.headers)
    assert response.status_code == 404
    misspelt = {"limt": 5}  # answered as if absent, it would page 50 events
    for bad in ({"limit": 0}, {"limit": 201}, {"before": 0}, {"before": "x"}, misspelt):
        response = await client.get(
            f"/api/v1/orgs/{owner.org_id}/audit", params=bad, headers=owner.headers
        )
        assert response.status_code == 422, bad


async def test_failures_throttling_and_the_alert_are_recorded(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory()
    async with client_for(app) as http:
        account = await ApiClient(http, outbox_of(app)).register()
    wrong = {"email": account.email, "password": "wrong password!!"}
    async with client_for(app, ip="203.0.113.9") as http:
        statuses = [
            (await http.post("/api/v1/auth/login", json=wrong)).status_code for _ in range(8)
        ]
    assert statuses[:5] == [401] * 5
    assert 429 in statuses
    async with client_for(app) as http:
        page = await _audit(ApiClient(http), account)
    events = [e["event"] for e in page["items"]]
    assert events.count("login.failed") == 5
    assert events.count("login.repeated_failures") == 1
    assert events.count("login.throttled") == 1  # once per address and quarter hour
    alert = next(e for e in page["items"] if e["event"] == "login.repeated_failures")
    assert alert["details"] == {"failures": 5, "window_s": 900}
    assert alert["client_ip"] == "203.0.113.9"
