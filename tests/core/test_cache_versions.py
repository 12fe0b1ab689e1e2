"""Cache versions outside the API: every committed write of a content item, whichever process
makes it, gives its organisation's data a new version; a bump that fails never fails the
write."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import select

from autoclip_core.cache_versions import (
    RedisVersions,
    changed,
    org_scope,
    version_key,
)
from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database
from autoclip_core.db.models import ContentItem, Organization
from autoclip_core.db.projects import ensure_project
from autoclip_core.states import ContentState
from tests.core.db.helpers import item

ORG = "0" * 31 + "1"
SCOPE = org_scope(ORG)


class Published(list[list[str]]):
    """What a publisher received: one list of scopes per committed transaction."""

    def __call__(self, scopes: list[str]) -> None:
        self.append(scopes)


@pytest.fixture
def published() -> Published:
    return Published()


@pytest.fixture
def database(sqlite_app_url: str, published: Published) -> Iterator[Database]:
    """An organisation's project ``acme`` and the sources file's project ``news``."""
    database = Database.open(sqlite_app_url, on_commit=published)
    with database.transaction() as s:
        s.add(Organization(id=ORG, name="Acme"))
        ensure_project(s, "acme").org_id = ORG
        ensure_project(s, "news")
    published.clear()
    yield database
    database.dispose()


def test_each_committed_write_of_an_organisations_item_bumps_its_version(
    database: Database, published: Published
) -> None:
    content = ContentRepository(database)
    content_id = item(1, "acme").id
    content.register_item(item(1, "acme"))
    content.set_state(content_id, ContentState.PROCESSING)
    content.update_content(content_id, language="ko")
    content.update_content(content_id, video_key="videos/1.mp4")
    content.set_state(content_id, ContentState.READY)
    content.mark_published(content_id, "https://example.com/v")
    assert published == [[SCOPE]] * 6


def test_items_of_the_sources_file_and_reads_bump_nothing(
    database: Database, published: Published
) -> None:
    content = ContentRepository(database)
    content.register_item(item(1, "news"))
    content.set_state(item(1, "news").id, ContentState.PROCESSING)
    content.register_item(item(2, "acme"))
    published.clear()
    content.status(item(2, "acme").id)
    content.route(item(2, "acme").id)
    assert published == []


def test_a_rolled_back_write_bumps_nothing(database: Database, published: Published) -> None:
    ContentRepository(database).register_item(item(1, "acme"))
    published.clear()

    def retitle_then_fail() -> None:
        with database.transaction() as s:
            row = s.scalar(select(ContentItem).where(ContentItem.id == item(1, "acme").id))
            assert row is not None
            row.title = "changed, then rolled back"
            s.flush()
            raise RuntimeError

    with pytest.raises(RuntimeError):
        retitle_then_fail()
    with database.transaction() as s:
        changed(s, "org:elsewhere")
    assert published == [["org:elsewhere"]]


def test_an_items_deletion_bumps_its_version(database: Database, published: Published) -> None:
    ContentRepository(database).register_item(item(1, "acme"))
    published.clear()
    with database.transaction() as s:
        row = s.get(ContentItem, item(1, "acme").id)
        assert row is not None
        ContentRepository(s).delete(row)
    assert published == [[SCOPE]]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_failed_bump_is_logged_and_the_write_stands(
    sqlite_app_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database.open(
        sqlite_app_url, on_commit=RedisVersions(f"redis://127.0.0.1:{_closed_port()}/0")
    )
    with database.transaction() as s:
        s.add(Organization(id=ORG, name="Acme"))
        ensure_project(s, "acme").org_id = ORG
    content = ContentRepository(database)
    content.register_item(item(1, "acme"))
    with caplog.at_level(logging.WARNING, logger="autoclip_core.cache_versions"):
        content.set_state(item(1, "acme").id, ContentState.PROCESSING)
    assert content.status(item(1, "acme").id).state == ContentState.PROCESSING
    assert f"cache versions of {SCOPE} not bumped" in caplog.text
    database.dispose()


def test_redis_versions_renews_the_scopes_key() -> None:
    base = os.environ.get("AUTOCLIP_TEST_REDIS_URL")
    if not base:
        if os.environ.get("CI"):
            pytest.fail("AUTOCLIP_TEST_REDIS_URL is not set: run through `make test`")
        pytest.skip("no Redis (run through scripts/with-test-services.sh)")
    client = redis.Redis.from_url(base)
    client.set(version_key(SCOPE), "before")
    publisher = RedisVersions(base)
    publisher([SCOPE])
    publisher.close()
    after = client.get(version_key(SCOPE))
    assert after not in (None, b"before")
    assert 0 < client.ttl(version_key(SCOPE)) <= 24 * 3600
    client.delete(version_key(SCOPE))
    client.close()
