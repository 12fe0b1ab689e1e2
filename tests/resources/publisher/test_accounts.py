"""Channel accounts from the app database: headless channels from settings, tokens that a
refresh rotates (stored and used from then on), refreshes serialised across processes, and a
lost authorisation that makes the channel wait for a reconnect."""

from __future__ import annotations

import base64
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from autoclip_core.crypto import TokenCipher, channel_token_key
from autoclip_core.db.channels import RECONNECT_EVENT, ChannelState
from autoclip_core.db.engine import Database
from autoclip_core.db.models import AuditEvent, Channel, Organization, Project, new_id, utcnow
from autoclip_core.settings import Settings
from resources.publisher.accounts import ChannelAccounts
from resources.registry import channel_accounts

KEY = base64.b64encode(b"k" * 32).decode()
LATER = datetime(2026, 12, 6, 13, 0, tzinfo=UTC)


def accounts(**settings: str) -> ChannelAccounts:
    return ChannelAccounts(token_key=KEY, youtube_api_project="client-1", **settings)


def test_a_headless_channel_keeps_the_refresh_token_it_rotated_to(db: Database) -> None:
    first = accounts(tiktok_refresh_token="rt-0").account(db, "tiktok")
    assert (first.platform, first.slug, first.quota) == ("tiktok", "tiktok", None)
    assert first.tokens is not None
    assert first.tokens.current().refresh_token == "rt-0"
    with first.tokens.refreshing() as now:
        assert now.refresh_token == "rt-0"
        first.tokens.save(access_token="at-1", refresh_token="rt-1", expires_at=LATER)

    # a later run, the same settings: the rotated token is used, not the one of settings
    again = accounts(tiktok_refresh_token="rt-0").account(db, "tiktok")
    assert again.tokens is not None
    stored = again.tokens.current()
    assert (stored.access_token, stored.refresh_token, stored.expires_at) == (
        "at-1", "rt-1", LATER)  # fmt: skip
    again.tokens.save(access_token="at-2", refresh_token=None, expires_at=None)
    assert again.tokens.current().refresh_token == "rt-1"  # None keeps the stored one

    # settings name another token: the channel starts from it
    replaced = accounts(tiktok_refresh_token="rt-new").account(db, "tiktok")
    assert replaced.tokens is not None
    assert (replaced.tokens.current().refresh_token, replaced.channel_id) == (
        "rt-new", first.channel_id)  # fmt: skip
    with db.transaction() as s:
        row = s.scalars(select(Channel).where(Channel.slug == "tiktok")).one()
        assert b"rt-new" not in (row.refresh_token or b"")  # sealed at rest

    youtube = accounts(youtube_refresh_token="g-rt").account(db, "youtube")
    assert youtube.quota is not None
    assert youtube.platform == "youtube"
    assert accounts().account(db, "archive").platform == "local"  # a folder
    assert accounts().account(db, "youtube").platform == "youtube"  # its row stays


def test_a_refresh_waits_for_another_and_sees_what_it_stored(db: Database) -> None:
    store = accounts(tiktok_refresh_token="rt-0").account(db, "tiktok").tokens
    other = accounts(tiktok_refresh_token="rt-0").account(db, "tiktok").tokens
    assert store is not None
    assert other is not None
    seen: list[str | None] = []
    entered = threading.Event()

    def first() -> None:
        with store.refreshing():
            entered.set()
            time.sleep(0.3)
            store.save(access_token="at-1", refresh_token="rt-1", expires_at=LATER)

    thread = threading.Thread(target=first)
    thread.start()
    assert entered.wait(5)
    with other.refreshing() as tokens:
        seen.append(tokens.refresh_token)
    thread.join()
    assert seen == ["rt-1"]  # not rt-0, which TikTok no longer accepts
    assert other.current().usable(LATER - timedelta(minutes=5))


def test_a_lost_authorisation_makes_the_channel_wait_and_is_recorded(db: Database) -> None:
    with db.transaction() as s:
        org = Organization(id=new_id(), name="Acme", created_at=utcnow())
        s.add(org)
        s.flush()
        project = Project(id=new_id(), org_id=org.id, slug="p", name="P")
        s.add(project)
        s.flush()
        s.add(Channel(id=new_id(), org_id=org.id, project_id=project.id, platform="youtube",
                      name="Main", slug="main-1", settings={"privacy": "public", "audited": True},
                      state=ChannelState.ACTIVE, created_at=utcnow()))  # fmt: skip
    account = accounts().account(db, "main-1")
    assert account.settings.effective_privacy == "public"
    assert not account.reconnect_required
    assert account.tokens is not None
    account.tokens.reconnect_required("invalid_grant: Token has been expired or revoked.")
    assert accounts().account(db, "main-1").reconnect_required
    with db.transaction() as s:
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.event == RECONNECT_EVENT)).all()
        assert event.org_id == org.id
        assert event.details["slug"] == "main-1"
        assert "invalid_grant" in event.details["reason"]


def test_the_key_and_refresh_tokens_stay_out_of_what_dagster_shows() -> None:
    shown = f"{accounts(tiktok_refresh_token='rt-secret')!r} {accounts()!s}"
    assert KEY not in shown
    assert "rt-secret" not in shown


def test_the_generated_local_key_is_read_from_its_file_not_carried_in_the_config(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path)
    made = channel_accounts(settings)
    assert made.token_key is None
    key = channel_token_key(settings)  # the key the API seals with
    assert base64.b64encode(key).decode() not in repr(made.model_dump())
    sealed = TokenCipher(key).encrypt("t", org_id="o", channel_id="c", column="access_token")
    assert made.cipher().decrypt(sealed, org_id="o", channel_id="c", column="access_token") == "t"
