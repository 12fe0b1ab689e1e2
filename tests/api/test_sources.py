"""The sources API: a project's sources, created and deleted with ``projects.update``, read
with ``projects.read``, tenant scoped like projects; a webhook source's secret shown once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, update

from autoclip_core.db.engine import Database
from autoclip_core.db.models import Source
from autoclip_core.db.sources import SourceRepository
from autoclip_core.ingest.config import parse_sources_config
from tests.api.helpers import Account, ApiClient

pytestmark = pytest.mark.anyio

MISSING = "0" * 32
WEBHOOK = {"kind": "webhook", "name": "Newsroom CMS"}
FEED = {"kind": "rss", "name": "Wire", "url": "https://feeds.example.com/wire.xml"}


def sources_path(project_id: str) -> str:
    return f"/api/v1/projects/{project_id}/sources"


async def create(
    client: ApiClient, account: Account, project_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(sources_path(project_id), json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_webhook_source_shows_its_secret_once(client: ApiClient) -> None:
    owner = await client.register()
    project = await client.project(owner)
    created = await create(client, owner, project["id"], WEBHOOK)
    assert created["secret"].startswith("whsec_")
    assert len(created["secret"]) > 40
    assert created["push_path"] == f"{sources_path(project['id'])}/{created['id']}/items"
    assert (created["kind"], created["name"], created["enabled"]) == (
        "webhook",
        "Newsroom CMS",
        True,
    )
    assert created["poll_interval"] is None
    read = (
        await client.get(f"{sources_path(project['id'])}/{created['id']}", headers=owner.headers)
    ).json()
    listed = (await client.get(sources_path(project["id"]), headers=owner.headers)).json()
    assert "secret" not in read
    assert [s["id"] for s in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0]
    assert created["secret"] not in str(read) + str(listed)


async def test_polled_sources_carry_their_settings_and_health(client: ApiClient) -> None:
    owner = await client.register()
    project = await client.project(owner)
    feed = await create(client, owner, project["id"], {**FEED, "poll_interval": 600})
    youtube = await create(client, owner, project["id"], {
        "kind": "youtube", "name": "Channel", "channel_id": "UC" + "a" * 22})  # fmt: skip
    api = await create(client, owner, project["id"], {
        "kind": "json_api", "name": "API", "url": "https://api.example.com/v1/articles",
        "mapping": {"items": "data.articles", "title": "headline", "media": "images[].url"},
    })  # fmt: skip
    assert (feed["url"], feed["poll_interval"], feed["config"]) == (
        "https://feeds.example.com/wire.xml", 600, {"full_text": "auto"})  # fmt: skip
    assert feed["secret"] is None
    assert feed["push_path"] is None
    assert youtube["config"]["channel_id"] == "UC" + "a" * 22
    assert api["config"]["mapping"]["items"] == "data.articles"
    assert feed["health"] == {
        "last_checked_at": None, "last_success_at": None, "last_error": None,
        "last_warning": None, "consecutive_failures": 0, "next_poll_at": None,
        "last_new": 0, "last_duplicates": 0, "total_new": 0,
    }  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        {**FEED, "url": "file:///etc/passwd"},  # the server's files are not a source
        {**FEED, "url": "/srv/feeds/wire.xml"},
        {**FEED, "url": "javascript:alert(1)"},
        # PostgreSQL cannot store NUL: a 422
        {**FEED, "url": "https://\u0000host/feed"},
        {**FEED, "poll_interval": 5},
        {**FEED, "poll_interval": "15m"},  # seconds through the API (durations: the file)
        {**FEED, "enabled": 1},
        {**FEED, "name": "   "},
        {"name": "No kind", "url": "https://feeds.example.com/wire.xml"},
        {"kind": "drop_folder", "name": "Inbox", "path": "/tmp"},  # file-only kind
        {"kind": "json_api", "name": "API", "url": "https://api.example.com",
         "auth": {"secret_env": "AUTOCLIP_JWT_SECRET"}},  # no server secrets by name
        {"kind": "youtube", "name": "Channel", "channel_id": "not-a-channel"},
        {"kind": "webhook", "name": "CMS", "secret": "mine"},
        {"kind": "webhook", "name": ""},
        {"name": "No kind"},
    ],
)  # fmt: skip
async def test_invalid_sources_are_422(client: ApiClient, body: dict[str, Any]) -> None:
    owner = await client.register()
    project = await client.project(owner)
    response = await client.post(sources_path(project["id"]), json=body, headers=owner.headers)
    assert response.status_code == 422, response.text
    listed = (await client.get(sources_path(project["id"]), headers=owner.headers)).json()
    assert listed["items"] == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "address not allowed: 169.254.169.254"),
        ("http://localhost:8080/feed.xml", "address not allowed: localhost"),
        ("http://127.0.0.1/feed.xml", "address not allowed: 127.0.0.1"),
        ("http://2130706433/feed.xml", "address not allowed: 2130706433"),
        ("http://10.0.0.5/feed.xml", "address not allowed: 10.0.0.5"),
        ("http://192.168.1.1/feed.xml", "address not allowed: 192.168.1.1"),
        ("http://[::1]/feed.xml", "address not allowed: ::1"),
        ("http://[::ffff:169.254.169.254]/", "address not allowed: ::ffff:169.254.169.254"),
        ("https://editor:hunter2@feeds.example.com/wire.xml", "must not contain a user name"),
    ],
)
async def test_sources_reaching_internal_addresses_or_carrying_credentials_are_422(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch, url: str, reason: str
) -> None:
    """Finding 6: such URLs used to be accepted at creation (and refused only when fetched)."""
    monkeypatch.delenv("AUTOCLIP_FETCH_ALLOW_HOSTS", raising=False)
    owner = await client.register()
    project = await client.project(owner)
    for kind in ("rss", "json_api"):
        body = {"kind": kind, "name": "Internal", "url": url}
        response = await client.post(sources_path(project["id"]), json=body, headers=owner.headers)
        assert response.status_code == 422, response.text
        (error,) = response.json()["errors"]
        assert error["pointer"] == "#/url"
        assert reason in error["detail"]
        assert "hunter2" not in response.text
    listed = (await client.get(sources_path(project["id"]), headers=owner.headers)).json()
    assert listed["items"] == []


async def test_fetch_allow_hosts_still_lets_local_sources_in(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.1")
    owner = await client.register()
    project = await client.project(owner)
    body = {**FEED, "url": "http://127.0.0.1:8081/feed.xml"}
    response = await client.post(sources_path(project["id"]), json=body, headers=owner.headers)
    assert response.status_code == 201, response.text


ALLOWED = {
    "owner": {"list", "read", "create", "delete"},
    "admin": {"list", "read", "create", "delete"},
    "editor": {"list", "read"},
    "viewer": {"list", "read"},
}


@pytest.mark.parametrize("role", ["owner", "admin", "editor", "viewer"])
async def test_source_routes_follow_the_permission_table(client: ApiClient, role: str) -> None:
    owner = await client.register()
    actor = owner if role == "owner" else await client.member(owner, role)
    project = await client.project(owner)
    existing = await create(client, owner, project["id"], FEED)
    base = sources_path(project["id"])
    calls = {
        "list": ("GET", base, None),
        "read": ("GET", f"{base}/{existing['id']}", None),
        "create": ("POST", base, WEBHOOK),
        "delete": ("DELETE", f"{base}/{existing['id']}", None),
    }
    for action, (method, path, body) in calls.items():
        response = await client.request(method, path, json=body, headers=actor.headers)
        if action in ALLOWED[role]:
            assert response.status_code < 300, (role, action, response.text)
        else:
            assert response.status_code == 403, (role, action)
            assert response.json()["detail"] == "Your role does not allow projects.update"


async def test_another_orgs_sources_are_identical_to_missing_ones(client: ApiClient) -> None:
    alice = await client.register(org_name="Alice's")
    bob = await client.register(org_name="Bob's")
    bobs_project = await client.project(bob)
    bobs_source = await create(client, bob, bobs_project["id"], WEBHOOK)
    alices_project = await client.project(alice)

    async def answer(path: str, method: str = "GET") -> tuple[int, bytes]:
        response = await client.request(method, path, headers=alice.headers)
        return response.status_code, response.content

    base = sources_path(bobs_project["id"])
    missing_project = sources_path(MISSING)
    not_found = (
        404,
        b'{"type":"about:blank","title":"Not Found","status":404,"detail":"Project not found"}',
    )
    assert await answer(base) == await answer(missing_project) == not_found
    assert await answer(f"{base}/{bobs_source['id']}") == await answer(
        f"{missing_project}/{MISSING}"
    )
    assert await answer(f"{base}/{bobs_source['id']}", "DELETE") == await answer(
        f"{missing_project}/{MISSING}", "DELETE"
    )
    # Bob's source under Alice's own project: a source she does not have
    mine = sources_path(alices_project["id"])
    assert await answer(f"{mine}/{bobs_source['id']}") == await answer(f"{mine}/{MISSING}") == (
        404, b'{"type":"about:blank","title":"Not Found","status":404,'
        b'"detail":"Source not found"}')  # fmt: skip
    created = await client.post(base, json=WEBHOOK, headers=alice.headers)
    assert created.status_code == 404
    still = (await client.get(base, headers=bob.headers)).json()["items"]
    assert [s["id"] for s in still] == [bobs_source["id"]]


async def test_a_deleted_source_is_gone(client: ApiClient) -> None:
    owner = await client.register()
    project = await client.project(owner)
    source = await create(client, owner, project["id"], FEED)
    path = f"{sources_path(project['id'])}/{source['id']}"
    assert (await client.delete(path, headers=owner.headers)).status_code == 204
    assert (await client.get(path, headers=owner.headers)).status_code == 404
    assert (await client.delete(path, headers=owner.headers)).status_code == 404


async def test_a_source_created_through_the_api_is_the_spec_a_sources_file_declares(
    client: ApiClient, pg_url: str
) -> None:
    owner = await client.register()
    project = await client.project(owner)
    body = {"kind": "json_api", "name": "wire", "url": "https://api.example.com/v1/articles",
            "poll_interval": 900, "mapping": {"items": "data", "published": None}}  # fmt: skip
    created = await create(client, owner, project["id"], body)
    assert created["poll_interval"] == 900
    in_the_file = {**body, "poll_interval": "15m"}  # the file also takes durations
    declared = parse_sources_config({"projects": [{"slug": "p", "sources": [in_the_file]}]})
    database = Database.open(pg_url)
    try:
        record = SourceRepository(database).record(created["id"])
    finally:
        database.dispose()
    assert record is not None
    assert record.spec == declared.projects[0].sources[0]


async def test_a_sources_file_url_is_shown_without_its_credentials(
    client: ApiClient, pg_url: str
) -> None:
    owner = await client.register()
    project = await client.project(owner)
    source = await create(client, owner, project["id"], FEED)
    engine = create_engine(pg_url)
    with engine.begin() as conn:  # as the sources file's mirror may store it
        conn.execute(
            update(Source)
            .where(Source.id == source["id"])
            .values(url="https://editor:hunter2@feeds.example.com/wire.xml")
        )
    engine.dispose()
    response = await client.get(sources_path(project["id"]), headers=owner.headers)
    assert [s["url"] for s in response.json()["items"]] == ["https://feeds.example.com/wire.xml"]
    assert "hunter2" not in response.text
