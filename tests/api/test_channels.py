"""Channels of a project: local ones publish, account ones wait for authorization; their
OAuth tokens are sealed at rest and bound to their organisation and channel."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import select, text

from autoclip_core.crypto import (
    MissingKeyError,
    TokenCipher,
    TokenDecryptError,
    channel_token_key,
)
from autoclip_core.db.channels import ChannelRepository
from autoclip_core.db.engine import Database
from autoclip_core.db.migrate import alembic_config
from autoclip_core.db.models import Channel
from autoclip_core.db.projects import ProjectRepository
from autoclip_core.schemas import SourceItem
from autoclip_core.settings import Settings
from resources.app_database import AppDatabase
from resources.publisher.base import ChannelAccount, PublishRequest
from resources.publisher.local import LocalChannelPublisher
from tests.api.helpers import Account, ApiClient, problem
from tests.fakes.publishing import MemoryJournal

pytestmark = pytest.mark.anyio

ACCESS = "ya29.access-token-that-must-never-be-stored-as-is"
REFRESH = "1//refresh-token-that-must-never-be-stored-as-is"


async def add_channel(
    client: ApiClient, account: Account, project_id: str, platform: str = "local",
    name: str = "My Folder", **extra: object,
) -> dict[str, object]:  # fmt: skip
    response = await client.post(
        f"/api/v1/projects/{project_id}/channels",
        json={"platform": platform, "name": name, **extra},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_local_channel_publishes_and_account_channels_await_authorization(
    client: ApiClient,
) -> None:
    owner = await client.register()
    project = await client.project(owner)
    local = await add_channel(client, owner, project["id"], settings={"note": "daily"})
    youtube = await add_channel(client, owner, project["id"], "youtube", "Our YouTube")
    tiktok = await add_channel(client, owner, project["id"], "tiktok", "Our TikTok")
    assert (local["state"], youtube["state"], tiktok["state"]) == (
        "active", "needs_authorization", "needs_authorization"
    )  # fmt: skip
    assert local["slug"] == f"my-folder-{str(local['id'])[:8]}"
    assert local["settings"] == {"note": "daily"}
    assert local["authorized"] is False
    url = f"/api/v1/projects/{project['id']}"
    listed = (await client.get(f"{url}/channels", headers=owner.headers)).json()["items"]
    assert [c["id"] for c in listed] == [local["id"], youtube["id"], tiktok["id"]]
    assert (await client.get(url, headers=owner.headers)).json()["channels"] == [
        local["id"], youtube["id"], tiktok["id"]
    ]  # fmt: skip

    deleted = await client.delete(f"{url}/channels/{youtube['id']}", headers=owner.headers)
    assert deleted.status_code == 204
    assert (await client.get(url, headers=owner.headers)).json()["channels"] == [
        local["id"], tiktok["id"]
    ]  # fmt: skip
    again = await client.delete(f"{url}/channels/{youtube['id']}", headers=owner.headers)
    assert again.json() == problem(404, "Channel not found")


@pytest.mark.parametrize(
    "body",
    [
        {"platform": "instagram", "name": "x"},
        {"platform": "local"},
        {"platform": "local", "name": ""},
        {"platform": "local", "name": "x", "settings": {"Bad Key": 1}},
        {"platform": "local", "name": "x", "settings": {"nested": {"a": 1}}},
        {"platform": "local", "name": "x", "settings": {"k": "line\nbreak"}},
        {"platform": "local", "name": "x", "state": "active"},
        {"platform": "local", "name": "x", "access_token": "t"},
    ],
)
async def test_invalid_channels_are_422(client: ApiClient, body: dict[str, object]) -> None:
    owner = await client.register()
    project = await client.project(owner)
    response = await client.post(
        f"/api/v1/projects/{project['id']}/channels", json=body, headers=owner.headers
    )
    assert response.status_code == 422, body


async def test_another_organisations_channels_are_404_and_viewers_only_read(
    client: ApiClient,
) -> None:
    owner = await client.register()
    project = await client.project(owner)
    channel = await add_channel(client, owner, project["id"])
    stranger = await client.register()
    viewer = await client.member(owner, "viewer")
    base = f"/api/v1/projects/{project['id']}/channels"
    for account, status in ((stranger, 404), (viewer, 200)):
        assert (await client.get(base, headers=account.headers)).status_code == status
    theirs = await client.project(stranger)
    crossed = await client.delete(
        f"/api/v1/projects/{theirs['id']}/channels/{channel['id']}", headers=stranger.headers
    )
    assert crossed.json() == problem(404, "Channel not found")
    for account, status in ((stranger, 404), (viewer, 403)):
        deleted = await client.delete(f"{base}/{channel['id']}", headers=account.headers)
        assert deleted.status_code == status
        created = await client.post(
            base, json={"platform": "local", "name": "x"}, headers=account.headers
        )
        assert created.status_code == status
    assert len((await client.get(base, headers=owner.headers)).json()["items"]) == 1


def channel_row(db: Database, channel_id: str) -> Channel:
    with db.transaction() as s:
        row = s.get(Channel, channel_id)
        assert row is not None
        s.expunge(row)
        return row


async def test_tokens_are_sealed_at_rest_and_bound_to_their_organisation_and_channel(
    client: ApiClient, app: FastAPI, pg_url: str
) -> None:
    owner = await client.register()
    project = await client.project(owner)
    mine = await add_channel(client, owner, project["id"], "youtube", "Ours")
    sibling = await add_channel(client, owner, project["id"], "youtube", "Also ours")
    stranger = await client.register()
    theirs = await add_channel(client, stranger, (await client.project(stranger))["id"])
    db = Database.open(pg_url)
    repository = ChannelRepository(db, cipher=app.state.api.channel_tokens)
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    repository.set_tokens(
        channel_row(db, str(mine["id"])),
        access_token=ACCESS, refresh_token=REFRESH, expires_at=expires,
    )  # fmt: skip
    sealed = channel_row(db, str(mine["id"]))
    assert sealed.state == "active"
    tokens = repository.tokens(sealed)
    assert (tokens.access_token, tokens.refresh_token, tokens.expires_at) == (
        ACCESS, REFRESH, expires
    )  # fmt: skip

    with db.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT access_token, refresh_token FROM channels WHERE id = :id"),
            {"id": mine["id"]},
        ).one()
    for column, plain in zip(stored, (ACCESS, REFRESH), strict=True):
        raw = bytes(column)
        assert plain.encode() not in raw
        assert base64.b64encode(plain.encode()) not in raw
        assert len(raw) == 1 + 12 + len(plain.encode()) + 16  # version, nonce, data, tag

    # The same ciphertext on another row (of this organisation or another) does not open,
    # and neither does one column's ciphertext in the other column.
    for other in (sibling, theirs):
        with db.engine.begin() as conn:
            conn.execute(
                text("UPDATE channels SET access_token = :t WHERE id = :id"),
                {"t": sealed.access_token, "id": other["id"]},
            )
        with pytest.raises(TokenDecryptError):
            repository.tokens(channel_row(db, str(other["id"])))
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE channels SET access_token = refresh_token, refresh_token = access_token "
                 "WHERE id = :id"),
            {"id": mine["id"]},
        )  # fmt: skip
    with pytest.raises(TokenDecryptError):
        repository.tokens(channel_row(db, str(mine["id"])))
    db.dispose()


async def test_a_projects_active_local_channels_are_where_the_pipeline_publishes(
    client: ApiClient, pg_url: str, tmp_path: Path
) -> None:
    owner = await client.register()
    project = await client.project(owner, "Morning news")
    first = await add_channel(client, owner, project["id"], name="Main")
    await add_channel(client, owner, project["id"], "youtube", "Not yet connected")
    second = await add_channel(client, owner, project["id"], name="Backup")
    app_db = AppDatabase(url=pg_url)
    app_db.content.register_item(
        SourceItem(id="item-1", project=project["slug"], source="api", url="https://e.kr/1",
                   title="Story", text="Text.")
    )  # fmt: skip
    targets = app_db.projects.of_content("item-1").channels
    assert targets == (first["slug"], second["slug"])  # the youtube one cannot publish yet

    publisher = LocalChannelPublisher(root=str(tmp_path / "channels"))
    video, thumb = tmp_path / "v.mp4", tmp_path / "v.jpg"
    video.write_bytes(b"mp4")
    thumb.write_bytes(b"jpg")
    receipt = publisher.publish(
        PublishRequest(content_id="item-1", channel=targets[0], video=video, thumbnail=thumb,
                       title="Story", description="", hashtags=[], language="en"),
        ChannelAccount(slug=targets[0], platform="local"),
        MemoryJournal(),
    )  # fmt: skip
    assert (tmp_path / "channels" / str(first["slug"]) / "item-1.mp4").read_bytes() == b"mp4"
    assert receipt.channel == first["slug"]

    await client.patch(
        f"/api/v1/projects/{project['id']}", json={"channels": []}, headers=owner.headers
    )
    assert app_db.projects.of_content("item-1").channels == ()
    # A project of the sources file names its local channels as before.
    ProjectRepository(app_db.database).ensure("file-project", channels=["local", "archive"])
    app_db.content.register_item(
        SourceItem(id="item-2", project="file-project", source="feed", url="https://e.kr/2",
                   title="Story", text="Text.")
    )  # fmt: skip
    assert app_db.projects.of_content("item-2").channels == ("local", "archive")
    app_db.database.dispose()


def test_a_sealed_token_opens_only_with_its_key_and_binding() -> None:
    cipher, other = TokenCipher(b"k" * 32), TokenCipher(b"K" * 32)
    sealed = cipher.encrypt("secret", org_id="o1", channel_id="c1", column="access_token")
    assert cipher.decrypt(sealed, org_id="o1", channel_id="c1", column="access_token") == "secret"
    assert sealed != cipher.encrypt("secret", org_id="o1", channel_id="c1", column="access_token")
    binding = {"org_id": "o1", "channel_id": "c1", "column": "access_token"}
    for changed in ({"org_id": "o2"}, {"channel_id": "c2"}, {"column": "refresh_token"}):
        with pytest.raises(TokenDecryptError):
            cipher.decrypt(sealed, **{**binding, **changed})
    with pytest.raises(TokenDecryptError):
        other.decrypt(sealed, **binding)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(TokenDecryptError):
        cipher.decrypt(tampered, **binding)


def test_the_token_key_is_required_in_prod_and_generated_once_elsewhere(tmp_path: Path) -> None:
    with pytest.raises(MissingKeyError, match="AUTOCLIP_CHANNEL_TOKEN_KEY"):
        channel_token_key(Settings(env="prod", data_dir=tmp_path, jwt_secret="j" * 40))
    local = Settings(env="local", data_dir=tmp_path)
    key = channel_token_key(local)
    assert len(key) == 32
    assert channel_token_key(Settings(env="local", data_dir=tmp_path)) == key
    assert (tmp_path / "secrets" / "channel_token_key").stat().st_mode & 0o077 == 0
    given = base64.b64encode(b"g" * 32).decode()
    assert channel_token_key(Settings(env="prod", channel_token_key=given)) == b"g" * 32
    short = Settings(env="prod", channel_token_key=base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="32 bytes"):
        channel_token_key(short)


def test_migration_0007_turns_an_organisations_channel_names_into_channel_rows(
    db: Database,
) -> None:
    config = alembic_config(db.url)
    command.downgrade(config, "0006")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO organizations (id, name, created_at) "
                          "VALUES ('o1', 'Org', '2026-01-01 00:00:00+00')"))  # fmt: skip
        for project_id, org, channels in (("p1", "'o1'", '["local", "backup"]'),
                                          ("p2", "NULL", '["local"]')):  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO projects (id, org_id, slug, name, review_required, "
                    "blocked_terms, template_id, channels, topic_weights, auto_generate, "
                    f"created_at) VALUES ('{project_id}', {org}, '{project_id}', 'P', false, "
                    f"'[]', 'short', '{channels}', '{{}}', false, '2026-01-01 00:00:00+00')"
                )
            )
    command.upgrade(config, "head")
    projects = ProjectRepository(db)
    with db.transaction() as s:
        rows = {c.id: c for c in s.scalars(select(Channel))}
        ids = s.scalar(text("SELECT channels FROM projects WHERE id = 'p1'"))
        kept = s.scalar(text("SELECT channels FROM projects WHERE id = 'p2'"))
    ids = json.loads(ids) if isinstance(ids, str) else ids
    assert [rows[i].name for i in ids] == ["local", "backup"]
    assert {(c.platform, c.state, c.org_id, c.project_id) for c in rows.values()} == {
        ("local", "active", "o1", "p1")
    }
    assert all(c.slug.startswith(f"{c.name}-") for c in rows.values())
    assert (json.loads(kept) if isinstance(kept, str) else kept) == ["local"]
    assert projects.ensure("p2").channels == ("local",)
    command.downgrade(config, "0006")
    with db.engine.connect() as conn:
        names = conn.execute(text("SELECT channels FROM projects WHERE id = 'p1'")).scalar()
    assert (json.loads(names) if isinstance(names, str) else names) == ["local", "backup"]
    command.upgrade(config, "head")
