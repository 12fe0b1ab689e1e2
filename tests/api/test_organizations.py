"""Organisations: members (owner only), invitations, leaving — and the consent attack of issue
16 (finding 3), replayed against the real server."""

from __future__ import annotations

from pathlib import Path

import httpx
import jwt
import pytest

from tests.api.helpers import PASSWORD, ApiClient, Outbox, problem
from tests.api.live_server import live_api

pytestmark = pytest.mark.anyio

ATTACKER, VICTIM = "127.0.0.2", "127.0.0.3"
OWNER_BY_INVITATION = (
    "Nobody is made owner without saying yes: invite the member with the role owner "
    "(POST /api/v1/orgs/{org_id}/invitations) and they accept it"
)


def _signed_up(http: httpx.Client, email: str) -> dict[str, str]:
    body = {"email": email, "password": PASSWORD, "name": "Someone", "org_name": f"{email}'s"}
    response = http.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    tokens = response.json()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    return {
        "Authorization": f"Bearer {tokens['access_token']}",
        "user_id": claims["sub"],
        "org_id": claims["org_id"],
    }


def _bearer(account: dict[str, str]) -> dict[str, str]:
    return {"Authorization": account["Authorization"]}


def test_nobody_is_made_a_member_let_alone_the_last_owner_without_consent(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    """The attack: the attacker made the victim an owner of the attacker's organisation
    (POST /orgs/{org}/members answered "No registered user with this email" for unknown
    addresses: an oracle), added a sock puppet as a member and left, so the victim was the
    last owner of an organisation with members and could not delete their account."""
    outbox = Outbox.of(tmp_path / "data")
    with (
        live_api(tmp_path, pg_url, redis_url) as server,
        server.client(ATTACKER) as attacker,
        server.client(VICTIM) as victim,
    ):
        victim_account = _signed_up(victim, "victim@example.com")
        evil = _signed_up(attacker, "attacker@example.com")
        org = evil["org_id"]

        added = attacker.post(
            f"/api/v1/orgs/{org}/members",
            json={"email": "victim@example.com", "role": "owner"},
            headers=_bearer(evil),
        )
        assert added.status_code == 405  # gone: members join by invitation only

        invited = attacker.post(
            f"/api/v1/orgs/{org}/invitations",
            json={"email": "victim@example.com", "role": "owner"},
            headers=_bearer(evil),
        )
        unknown = attacker.post(
            f"/api/v1/orgs/{org}/invitations",
            json={"email": "nobody@example.com", "role": "owner"},
            headers=_bearer(evil),
        )
        assert invited.status_code == unknown.status_code == 201  # no oracle
        same = {"org_id", "role", "status", "invited_by"}
        assert {k: invited.json()[k] for k in same} == {k: unknown.json()[k] for k in same}
        assert invited.json().keys() == unknown.json().keys()

        puppet = _signed_up(attacker, "puppet@example.com")
        token = outbox.token("puppet@example.com", "verify_email")
        assert attacker.post("/api/v1/auth/verify-email", json={"token": token}).status_code == 200
        offer = attacker.post(
            f"/api/v1/orgs/{org}/invitations",
            json={"email": "puppet@example.com", "role": "viewer"},
            headers=_bearer(evil),
        ).json()
        joined = attacker.post(
            f"/api/v1/invitations/{offer['id']}/accept",
            json={"role": "viewer"},
            headers=_bearer(puppet),
        )
        assert joined.status_code == 200

        left = attacker.delete(
            f"/api/v1/orgs/{org}/members/{evil['user_id']}", headers=_bearer(evil)
        )
        assert left.status_code == 409  # the attacker is its only owner: the victim is none
        orgs = victim.get("/api/v1/orgs", headers=_bearer(victim_account)).json()["items"]
        assert [o["id"] for o in orgs] == [victim_account["org_id"]]
        deleted = victim.delete("/api/v1/users/me", headers=_bearer(victim_account))
        assert deleted.status_code == 204


async def test_owner_manages_members(client: ApiClient) -> None:
    owner = await client.register()
    user = await client.register()
    base = f"/api/v1/orgs/{owner.org_id}/members"
    await client.join(owner, user, "editor")

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
    made_owner = await client.patch(
        f"{base}/{user.user_id}", json={"role": "owner"}, headers=owner.headers
    )
    assert made_owner.json() == problem(409, OWNER_BY_INVITATION)

    removed = await client.delete(f"{base}/{user.user_id}", headers=owner.headers)
    assert removed.status_code == 204
    assert (await client.get(base, headers=owner.headers)).json()["total"] == 1


async def test_member_errors(client: ApiClient) -> None:
    owner = await client.register()
    user = await client.register()
    await client.join(owner, user, "viewer")
    invitations = f"/api/v1/orgs/{owner.org_id}/invitations"
    again = await client.post(
        invitations, json={"email": user.email, "role": "viewer"}, headers=owner.headers
    )
    assert again.json() == problem(409, "Already a member with the role viewer")
    bad_role = await client.post(
        invitations, json={"email": user.email, "role": "superuser"}, headers=owner.headers
    )
    assert bad_role.status_code == 422
    base = f"/api/v1/orgs/{owner.org_id}/members"
    for user_id in ("0" * 32, "not-an-id"):
        missing = await client.patch(
            f"{base}/{user_id}", json={"role": "viewer"}, headers=owner.headers
        )
        assert missing.status_code == 404
        assert (await client.delete(f"{base}/{user_id}", headers=owner.headers)).status_code == 404


async def test_an_invitation_is_mailed_and_answered_alike_whether_or_not_registered(
    client: ApiClient,
) -> None:
    owner = await client.register(org_name="Acme Studio")
    known = await client.register()
    invitations = f"/api/v1/orgs/{owner.org_id}/invitations"
    answers = [
        await client.post(
            invitations, json={"email": email, "role": "editor"}, headers=owner.headers
        )
        for email in (known.email, "new.person@example.com")
    ]
    assert [a.status_code for a in answers] == [201, 201]
    for answer, email in zip(answers, (known.email, "new.person@example.com"), strict=True):
        body = answer.json()
        assert (body["email"], body["role"], body["status"]) == (email, "editor", "pending")
        mail = client.outbox.wait_for(email, "invitation")
        assert mail["subject"] == "Test User invites you to Acme Studio on AutoClip"
    listed = (await client.get(invitations, headers=owner.headers)).json()
    assert [i["email"] for i in listed["items"]] == [known.email, "new.person@example.com"]


async def test_nobody_joins_without_accepting_exactly_the_role_offered(client: ApiClient) -> None:
    owner = await client.register(org_name="Acme")
    invitee = await client.register(org_name="Mine")
    offer = (
        await client.post(
            f"/api/v1/orgs/{owner.org_id}/invitations",
            json={"email": invitee.email, "role": "owner"},
            headers=owner.headers,
        )
    ).json()
    orgs = (await client.get("/api/v1/orgs", headers=invitee.headers)).json()["items"]
    assert [o["name"] for o in orgs] == ["Mine"]

    await client.verify_email(invitee)
    mine = (await client.get("/api/v1/users/me/invitations", headers=invitee.headers)).json()
    assert [(i["id"], i["org_name"], i["role"], i["invited_by_name"]) for i in mine["items"]] == [
        (offer["id"], "Acme", "owner", "Test User")
    ]
    accept = f"/api/v1/invitations/{offer['id']}/accept"
    wrong = await client.post(accept, json={"role": "viewer"}, headers=invitee.headers)
    assert wrong.json() == problem(
        409, "This invitation offers the role owner: accept it with that role"
    )
    assert (await client.post(accept, json={}, headers=invitee.headers)).status_code == 422
    joined = await client.post(accept, json={"role": "owner"}, headers=invitee.headers)
    assert joined.status_code == 200
    assert (joined.json()["name"], joined.json()["role"]) == ("Acme", "owner")
    orgs = (await client.get("/api/v1/orgs", headers=invitee.headers)).json()["items"]
    assert [(o["name"], o["role"]) for o in orgs] == [("Mine", "owner"), ("Acme", "owner")]
    replay = await client.post(accept, json={"role": "owner"}, headers=invitee.headers)
    assert replay.status_code == 404


async def test_invitations_to_an_address_are_for_its_proven_owner_only(client: ApiClient) -> None:
    """Someone registers another person's address (unproven) and waits for invitations to
    it: they can neither see nor accept them."""
    owner = await client.register()
    squatter = await client.register(email="colleague@example.com")
    offer = (
        await client.post(
            f"/api/v1/orgs/{owner.org_id}/invitations",
            json={"email": "colleague@example.com", "role": "admin"},
            headers=owner.headers,
        )
    ).json()
    listed = await client.get("/api/v1/users/me/invitations", headers=squatter.headers)
    assert listed.status_code == 403
    accepted = await client.post(
        f"/api/v1/invitations/{offer['id']}/accept", json={"role": "admin"},
        headers=squatter.headers,
    )  # fmt: skip
    assert accepted.status_code == 403
    members = await client.get(f"/api/v1/orgs/{owner.org_id}/members", headers=owner.headers)
    assert members.json()["total"] == 1


async def test_declined_revoked_and_other_peoples_invitations_cannot_be_accepted(
    client: ApiClient,
) -> None:
    owner = await client.register()
    invitee, other = await client.register(), await client.register()
    for account in (invitee, other):
        await client.verify_email(account)
    invitations = f"/api/v1/orgs/{owner.org_id}/invitations"

    async def invite(role: str) -> dict[str, str]:
        response = await client.post(
            invitations, json={"email": invitee.email, "role": role}, headers=owner.headers
        )
        return dict(response.json())

    first = await invite("viewer")
    renewed = await invite("editor")  # one open invitation per address, renewed
    assert (renewed["id"], renewed["role"]) == (first["id"], "editor")
    accept = f"/api/v1/invitations/{first['id']}/accept"
    theirs = await client.post(accept, json={"role": "editor"}, headers=other.headers)
    assert theirs.status_code == 404
    declined = await client.post(
        f"/api/v1/invitations/{first['id']}/decline", headers=invitee.headers
    )
    assert declined.status_code == 204
    assert (
        await client.post(accept, json={"role": "editor"}, headers=invitee.headers)
    ).status_code == 404

    second = await invite("viewer")
    revoked = await client.delete(f"{invitations}/{second['id']}", headers=owner.headers)
    assert revoked.status_code == 204
    late = await client.post(
        f"/api/v1/invitations/{second['id']}/accept", json={"role": "viewer"},
        headers=invitee.headers,
    )  # fmt: skip
    assert late.status_code == 404
    assert (await client.get(invitations, headers=owner.headers)).json()["total"] == 0


async def test_a_member_becomes_owner_only_by_accepting_that_role(client: ApiClient) -> None:
    owner = await client.register()
    editor = await client.member(owner, "editor")
    offer = (
        await client.post(
            f"/api/v1/orgs/{owner.org_id}/invitations",
            json={"email": editor.email, "role": "owner"},
            headers=owner.headers,
        )
    ).json()
    me = (await client.get("/api/v1/users/me", headers=editor.headers)).json()
    assert me["role"] == "editor"  # an offer changes nothing
    await client.post(
        f"/api/v1/invitations/{offer['id']}/accept", json={"role": "owner"},
        headers=editor.headers,
    )  # fmt: skip
    me = (await client.get("/api/v1/users/me", headers=editor.headers)).json()
    assert me["role"] == "owner"


async def test_a_member_can_leave_and_an_owner_too_while_another_owner_stays(
    client: ApiClient,
) -> None:
    owner = await client.register()
    viewer = await client.member(owner, "viewer")
    leave = f"/api/v1/orgs/{owner.org_id}/members/me"
    assert (await client.delete(leave, headers=viewer.headers)).status_code == 204
    # the session in the organisation ended with the membership
    assert (await client.get("/api/v1/users/me", headers=viewer.headers)).status_code == 401
    stranger = await client.register()
    assert (await client.delete(leave, headers=stranger.headers)).status_code == 404

    alone = await client.delete(leave, headers=owner.headers)
    assert alone.json() == problem(409, "An organisation needs at least one owner")
    second = await client.member(owner, "owner")
    assert (await client.delete(leave, headers=owner.headers)).status_code == 204
    members = (
        await client.get(f"/api/v1/orgs/{owner.org_id}/members", headers=second.headers)
    ).json()
    assert [m["user_id"] for m in members["items"]] == [second.user_id]


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
    await client.join(bob, alice, "viewer")
    bob_in_alice = await client.login(bob)  # Bob's session is in his own org
    response = await client.get(f"/api/v1/orgs/{bob.org_id}/members", headers=bob_in_alice.headers)
    assert response.status_code == 200
    # Alice (a viewer in Bob's org) cannot, whatever org her session is in
    refused = await client.get(f"/api/v1/orgs/{bob.org_id}/members", headers=alice.headers)
    assert refused.status_code == 403
