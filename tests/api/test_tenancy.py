"""Tenancy: another organisation's objects are invisible — 404 exactly like a missing id."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import autoclip_api
import autoclip_core.db
from tests.api.helpers import ApiClient, problem

pytestmark = pytest.mark.anyio

MISSING = "0" * 32


async def test_other_orgs_project_is_byte_identical_to_a_missing_one(client: ApiClient) -> None:
    alice = await client.register(org_name="Alice Inc")
    bob = await client.register(org_name="Bob Ltd")
    secret = await client.project(bob, "Bob's plans")
    for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
        foreign = await client.request(
            method, f"/api/v1/projects/{secret['id']}", json=body, headers=alice.headers
        )
        missing = await client.request(
            method, f"/api/v1/projects/{MISSING}", json=body, headers=alice.headers
        )
        assert foreign.status_code == missing.status_code == 404
        assert foreign.content == missing.content
        assert foreign.json() == problem(404, "Project not found")
        assert dict(foreign.headers) == dict(missing.headers)
    # and nothing happened to Bob's project
    mine = await client.get(f"/api/v1/projects/{secret['id']}", headers=bob.headers)
    assert mine.json()["name"] == "Bob's plans"


async def test_lists_never_include_other_orgs_rows(client: ApiClient) -> None:
    alice = await client.register()
    bob = await client.register()
    alice_ids = {(await client.project(alice, f"A{i}"))["id"] for i in range(3)}
    bob_ids = {(await client.project(bob, f"B{i}"))["id"] for i in range(2)}
    alice_list = (await client.get("/api/v1/projects", headers=alice.headers)).json()
    bob_list = (await client.get("/api/v1/projects", headers=bob.headers)).json()
    assert {p["id"] for p in alice_list["items"]} == alice_ids
    assert alice_list["total"] == 3
    assert {p["id"] for p in bob_list["items"]} == bob_ids
    assert all(p["org_id"] == alice.org_id for p in alice_list["items"])


async def test_a_user_in_two_orgs_sees_the_projects_of_the_session_org(
    client: ApiClient,
) -> None:
    alice = await client.register(org_name="Alice's own")
    bob = await client.register(org_name="Bob's")
    await client.join(bob, alice, "admin")
    alice_at_bob = await client.login(alice, org_id=bob.org_id)
    await client.project(alice, "in Alice's org")
    await client.project(alice_at_bob, "in Bob's org")

    async def names(headers: dict[str, str]) -> list[str]:
        response = await client.get("/api/v1/projects", headers=headers)
        return [p["name"] for p in response.json()["items"]]

    assert await names(alice.headers) == ["in Alice's org"]
    assert await names(alice_at_bob.headers) == ["in Bob's org"]
    assert await names(bob.headers) == ["in Bob's org"]


async def test_non_members_get_404_for_an_orgs_members(client: ApiClient) -> None:
    alice = await client.register()
    bob = await client.register()
    foreign = await client.get(f"/api/v1/orgs/{bob.org_id}/members", headers=alice.headers)
    missing = await client.get(f"/api/v1/orgs/{MISSING}/members", headers=alice.headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    invite = await client.post(
        f"/api/v1/orgs/{bob.org_id}/invitations",
        json={"email": alice.email, "role": "owner"},
        headers=alice.headers,
    )
    assert invite.status_code == 404


async def test_orgs_list_shows_only_my_memberships(client: ApiClient) -> None:
    alice = await client.register(org_name="Alice's")
    bob = await client.register(org_name="Bob's")
    await client.join(bob, alice, "viewer")
    orgs = (await client.get("/api/v1/orgs", headers=alice.headers)).json()["items"]
    assert [(o["name"], o["role"]) for o in orgs] == [("Alice's", "owner"), ("Bob's", "viewer")]
    assert [
        o["name"] for o in (await client.get("/api/v1/orgs", headers=bob.headers)).json()["items"]
    ] == ["Bob's"]


def test_tenant_scoping_lives_in_one_repository_method() -> None:
    """The only organisation filter on projects is ProjectRepository.get_readable_statement
    (sources and media build on it), and no module of the API queries the projects table
    itself; an aggregate of its own (channels, templates) filters in its own
    get_readable_statement, once."""
    db_package = Path(autoclip_core.db.__file__).parent
    api = Path(autoclip_api.__file__).parent
    scanned = [*db_package.glob("*.py"), *(api / "projects").glob("*.py")]
    for package in ("sources", "channels", "templates", "media"):
        scanned += (api / package).glob("*.py")
    filters = [
        (path, line.strip())
        for path in scanned
        for line in path.read_text().splitlines()
        if re.search(r"org_id\s*==", line)
    ]
    assert len({path for path, _ in filters}) == len(filters)  # one filter per module
    for path, line in filters:
        after = path.read_text().split("def get_readable_statement", 1)[1]
        method = after.split("\n    def ", 1)[0]
        assert line in method, (path.name, line)
    assert (db_package / "projects.py", "return statement.where(PROJECTS.c.org_id == org_id)") in (
        filters
    )
    source = (db_package / "projects.py").read_text()
    method = source.split("def get_readable_statement", 1)[1].split("\n    def ", 1)[0]
    assert "PROJECTS.c.org_id == org_id" in method
    sources = (db_package / "sources.py").read_text()
    assert "ProjectRepository.get_readable_statement(org_id" in sources
    for path in api.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"select\(\s*Project\b|PROJECTS\.c\b|Project\.__table__", text), (
            path
        )
