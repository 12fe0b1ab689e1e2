"""Connecting YouTube and TikTok channels through OAuth (state + PKCE S256, bound to the
organisation and channel, single use, expiring), against the fake platforms; and what
``GET /projects/{id}/channels`` shows of YouTube's quota."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from autoclip_core.db.channels import ChannelRepository, publish_targets
from autoclip_core.db.engine import Database
from autoclip_core.db.models import Channel, ChannelAuthorization, Project
from autoclip_core.db.quota import QuotaPolicy, QuotaRepository
from tests.api.conftest import client_for
from tests.api.helpers import Account, ApiClient
from tests.fakes.fixtures import _loopback_only  # noqa: F401
from tests.fakes.net import running_server
from tests.fakes.tiktok import FakeTikTok
from tests.fakes.youtube_api import CLIENT_ID, CLIENT_SECRET, FakeYouTubeAPI, running_fake_youtube

pytestmark = pytest.mark.anyio

CALLBACK = "http://testserver/api/v1/channels/oauth/{}/callback"


@pytest.fixture
def youtube() -> Iterator[FakeYouTubeAPI]:
    with running_fake_youtube() as api:
        yield api


@pytest.fixture
def tiktok() -> Iterator[FakeTikTok]:
    with running_server() as server:
        yield FakeTikTok(server)


@pytest.fixture
def app(
    app_factory: Callable[..., FastAPI], youtube: FakeYouTubeAPI, tiktok: FakeTikTok
) -> FastAPI:
    return app_factory(
        youtube_client_id=CLIENT_ID,
        youtube_client_secret=CLIENT_SECRET,
        google_oauth_base_url=youtube.base,
        google_authorization_endpoint=f"{youtube.base}/o/oauth2/v2/auth",
        youtube_base_url=youtube.base,
        youtube_daily_uploads=100,
        tiktok_client_key=tiktok.client_key,
        tiktok_client_secret=tiktok.client_secret,
        tiktok_base_url=tiktok.base_url,
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[ApiClient]:
    async with client_for(app) as http:
        yield ApiClient(http)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def new_channel(
    client: ApiClient, owner: Account, project_id: str, platform: str
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/projects/{project_id}/channels",
        json={"platform": platform, "name": f"Harbour on {platform}",
              "settings": {"privacy": "public"}},
        headers=owner.headers,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_youtube_channel_is_connected_once_and_shows_the_days_quota(
    client: ApiClient, app: FastAPI, youtube: FakeYouTubeAPI
) -> None:
    owner = await client.register()
    project = await client.project(owner)
    channel = await new_channel(client, owner, project["id"], "youtube")
    assert (channel["state"], channel["authorized"]) == ("needs_authorization", False)
    consent = query_of(channel["authorization_url"])
    assert channel["authorization_url"].startswith(f"{youtube.base}/o/oauth2/v2/auth?")
    assert consent["redirect_uri"] == CALLBACK.format("youtube")
    assert (consent["code_challenge_method"], consent["access_type"]) == ("S256", "offline")
    assert len(consent["state"]) >= 32

    # the owner consents at Google, which redirects the browser to our callback
    redirect = httpx.get(channel["authorization_url"], follow_redirects=False)
    assert redirect.status_code == 302
    back = redirect.headers["Location"]
    assert back.startswith(CALLBACK.format("youtube"))
    callback = await client.get(back.removeprefix("http://testserver"))  # no login: the state
    assert callback.status_code == 200, callback.text
    connected = callback.json()
    assert (connected["id"], connected["state"], connected["authorized"]) == (
        channel["id"], "active", True)  # fmt: skip
    assert connected["identity"]["id"] == youtube.channel.id
    [exchange] = [r for r in youtube.token_requests if r["grant_type"] == "authorization_code"]
    assert exchange["redirect_uri"] == CALLBACK.format("youtube")

    again = await client.get(back.removeprefix("http://testserver"))
    assert again.status_code == 404  # a state is good once

    database: Database = app.state.api.database
    with database.transaction() as s:
        row = s.get_one(Channel, channel["id"])
        tokens = ChannelRepository(s, cipher=app.state.api.channel_tokens).tokens(row)
        assert tokens.refresh_token is not None
        assert tokens.refresh_token.encode() not in (row.refresh_token or b"")
        assert tokens.expires_at is not None
        project_row = s.get_one(Project, project["id"])
        assert channel["slug"] in publish_targets(s, project_row)  # the pipeline publishes there
        assert s.scalars(select(ChannelAuthorization)).all() == []

    QuotaRepository(database).charge(
        CLIENT_ID, QuotaPolicy(), "videos.insert", datetime.now(UTC), count=3
    )
    listed = await client.get(f"/api/v1/projects/{project['id']}/channels", headers=owner.headers)
    [shown] = listed.json()["items"]
    assert shown["quota"]["units_left"] == 10_000
    assert shown["quota"]["uploads_left"] == 97
    assert datetime.fromisoformat(shown["quota"]["resets_at"]) > datetime.now(UTC)


async def test_a_tiktok_channel_is_connected_with_the_creators_identity(
    client: ApiClient, tiktok: FakeTikTok
) -> None:
    owner = await client.register()
    project = await client.project(owner)
    channel = await new_channel(client, owner, project["id"], "tiktok")
    consent = query_of(channel["authorization_url"])
    assert consent["client_key"] == tiktok.client_key
    assert consent["redirect_uri"] == CALLBACK.format("tiktok")
    code = tiktok.authorize(
        redirect_uri=consent["redirect_uri"],
        code_challenge=consent["code_challenge"],
        scope=consent["scope"],
    )
    callback = await client.get(
        "/api/v1/channels/oauth/tiktok/callback", params={"code": code, "state": consent["state"]}
    )
    assert callback.status_code == 200, callback.text
    assert callback.json()["identity"] == {
        "id": tiktok.creator.open_id, "name": "Ada Clips", "handle": "ada.clips"}  # fmt: skip
    assert callback.json()["state"] == "active"


async def test_a_state_is_bound_to_its_platform_single_use_and_expires(
    client: ApiClient, app: FastAPI, youtube: FakeYouTubeAPI
) -> None:
    owner = await client.register()
    project = await client.project(owner)
    channel = await new_channel(client, owner, project["id"], "youtube")
    state = query_of(channel["authorization_url"])["state"]
    path = "/api/v1/channels/oauth/{}/callback"

    wrong_platform = await client.get(path.format("tiktok"), params={"code": "c", "state": state})
    assert wrong_platform.status_code == 404
    declined = await client.get(
        path.format("youtube"), params={"error": "access_denied", "state": state}
    )
    assert declined.status_code == 400
    assert "access_denied" in declined.json()["detail"]
    after = await client.get(path.format("youtube"), params={"code": "c", "state": state})
    assert after.status_code == 404  # declining used the state up

    started = await client.post(
        f"/api/v1/projects/{project['id']}/channels/{channel['id']}/authorize",
        headers=owner.headers,
    )
    assert started.status_code == 200, started.text
    fresh = query_of(started.json()["authorization_url"])["state"]
    with app.state.api.database.transaction() as s:
        s.execute(update(ChannelAuthorization).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))  # fmt: skip
    expired = await client.get(path.format("youtube"), params={"code": "c", "state": fresh})
    assert expired.status_code == 404
    refused = await client.get(path.format("youtube"), params={"code": "bad", "state": "x" * 43})
    assert refused.status_code == 404

    # a code Google refuses leaves the channel as it was
    third = await client.post(
        f"/api/v1/projects/{project['id']}/channels/{channel['id']}/authorize",
        headers=owner.headers,
    )
    third_state = query_of(third.json()["authorization_url"])["state"]
    bad_code = await client.get(
        path.format("youtube"), params={"code": "4/not-issued", "state": third_state}
    )
    assert bad_code.status_code == 502
    retried = await client.get(
        path.format("youtube"), params={"code": "4/other", "state": third_state}
    )
    assert retried.status_code == 404  # spent by the refused exchange
    listed = await client.get(f"/api/v1/projects/{project['id']}/channels", headers=owner.headers)
    assert listed.json()["items"][0]["state"] == "needs_authorization"

    local = await new_channel(client, owner, project["id"], "local")
    assert local["authorization_url"] is None
    refused_local = await client.post(
        f"/api/v1/projects/{project['id']}/channels/{local['id']}/authorize",
        headers=owner.headers,
    )
    assert refused_local.status_code == 409
