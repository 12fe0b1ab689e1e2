"""The HMAC-signed webhook: a signed delivery becomes draft content items (202); every other
delivery gets a clear 4xx and stores nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from autoclip_api.sources.signature import sign
from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database
from autoclip_core.db.models import ContentItem
from autoclip_core.states import ContentState
from tests.api.conftest import client_for
from tests.api.helpers import Account, ApiClient, problem
from tests.fakes.feeds import article_text

pytestmark = pytest.mark.anyio


@dataclass
class Hook:
    owner: Account
    project_id: str
    source_id: str
    secret: str
    path: str


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    database = Database.open(pg_url)
    yield database
    database.dispose()


def stored(db: Database) -> int:
    with db.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(ContentItem)) or 0)


async def make_hook(client: ApiClient, owner: Account | None = None, **body: Any) -> Hook:
    owner = owner or await client.register()
    project = await client.project(owner)
    response = await client.post(
        f"/api/v1/projects/{project['id']}/sources",
        json={"kind": "webhook", "name": "CMS", **body},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    return Hook(owner, project["id"], created["id"], created["secret"], created["push_path"])


def item(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"story-{n}",
        "url": f"https://news.example.com/{n}",
        "title": f"Story {n}",
        "text": article_text(n, 200),
        **extra,
    }


def payload(*items: dict[str, Any]) -> bytes:
    return json.dumps({"items": list(items)}).encode()


async def deliver(
    client: ApiClient,
    hook: Hook,
    body: bytes,
    *,
    timestamp: int | str | None = None,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
    path: str | None = None,
) -> Any:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sent = {
        "Content-Type": "application/json",
        "X-AutoClip-Timestamp": ts,
        "X-AutoClip-Signature": signature or sign(hook.secret, ts, body),
    }
    if headers is not None:
        sent = {"Content-Type": "application/json", **headers}
    return await client.post(path or hook.path, content=body, headers=sent)


async def test_a_signed_delivery_is_stored_as_drafts(
    client: ApiClient, db: Database
) -> None:
    hook = await make_hook(client)
    copy = item(1, id="copy", url="https://www.news.example.com/1/?utm_source=cms#top")
    response = await deliver(client, hook, payload(
        item(1, language="en", published="2026-01-02T03:04:05Z",
             media=["https://img.example.com/1.jpg"]),
        item(2, title="<b>Story</b> 2", published=1767323045),
        copy,  # the same story again (same canonical URL)
    ))  # fmt: skip
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["skipped"]) == (2, 1, 0)
    assert [i["status"] for i in body["items"]] == ["accepted", "accepted", "duplicate"]
    assert body["items"][2]["duplicate_of"] == body["accepted_ids"][0]
    assert body["duplicate_ids"] == [body["items"][2]["id"]]

    first, second = (ContentRepository(db).source_item(i) for i in body["accepted_ids"])
    assert ContentRepository(db).status(first.id).state == ContentState.DRAFT
    assert (first.url, first.canonical_url) == (
        "https://news.example.com/1", "https://news.example.com/1")  # fmt: skip
    assert first.language == "en"
    assert first.fingerprint is not None
    assert first.media_links == ["https://img.example.com/1.jpg"]
    assert first.published_at is not None
    assert first.published_at.isoformat() == "2026-01-02T03:04:05+00:00"
    assert second.title == "Story 2"  # HTML stripped
    pushed = ContentRepository(db).pushed_items_since(first.published_at)
    assert {p.id for p in pushed} == set(body["accepted_ids"])
    assert {p.source_id for p in pushed} == {hook.source_id}

    health = (
        await client.get(
            f"/api/v1/projects/{hook.project_id}/sources/{hook.source_id}",
            headers=hook.owner.headers,
        )
    ).json()["health"]
    assert (health["last_new"], health["last_duplicates"], health["total_new"]) == (2, 1, 2)
    assert health["last_checked_at"] is not None

    again = await deliver(client, hook, payload(item(1), item(3)))  # newly signed
    assert again.status_code == 202
    assert [i["status"] for i in again.json()["items"]] == ["duplicate", "accepted"]
    assert stored(db) == 3


async def test_no_bearer_token_is_needed_and_none_is_enough(
    client: ApiClient, db: Database
) -> None:
    hook = await make_hook(client)
    body = payload(item(1))
    response = await client.post(
        hook.path, content=body, headers={"Authorization": hook.owner.headers["Authorization"]}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("AutoClip-HMAC-SHA256")
    assert stored(db) == 0


def _refusals() -> list[tuple[str, Callable[[Hook, bytes], dict[str, Any]], str]]:
    def now() -> int:  # read when the case runs, not when the tests are collected
        return int(time.time())

    def signed(offset: int) -> Callable[[Hook, bytes], dict[str, Any]]:
        def how(hook: Hook, body: bytes) -> dict[str, Any]:
            ts = now() + offset
            return {"timestamp": ts, "signature": sign(hook.secret, ts, body)}

        return how

    return [
        ("no signature", lambda h, b: {"headers": {"X-AutoClip-Timestamp": str(now())}},
         "Missing or malformed X-AutoClip-Signature"),
        ("no timestamp",
         lambda h, b: {"headers": {"X-AutoClip-Signature": sign(h.secret, now(), b)}},
         "Missing or malformed X-AutoClip-Timestamp"),
        ("not a number", lambda h, b: {"timestamp": "1e9", "signature": sign(h.secret, "1e9", b)},
         "Missing or malformed X-AutoClip-Timestamp"),
        ("expired", signed(-301), "more than 300 seconds"),
        ("from the future", signed(400), "more than 300 seconds"),
        ("wrong secret",
         lambda h, b: {"signature": sign("whsec_guess", now(), b), "timestamp": now()},
         "Invalid signature"),
        ("other body",
         lambda h, b: {"signature": sign(h.secret, now(), b + b" "), "timestamp": now()},
         "Invalid signature"),
        ("other timestamp", lambda h, b: {"signature": sign(h.secret, now(), b),
                                          "timestamp": now() - 1}, "Invalid signature"),
        ("bare hex",
         lambda h, b: {"signature": sign(h.secret, now(), b).removeprefix("sha256="),
                       "timestamp": now()},
         "Missing or malformed X-AutoClip-Signature"),
        ("other scheme", lambda h, b: {"signature": "sha1=" + "0" * 40, "timestamp": now()},
         "Missing or malformed X-AutoClip-Signature"),
    ]  # fmt: skip


@pytest.mark.parametrize(("case", "how", "detail"), _refusals(), ids=[r[0] for r in _refusals()])
async def test_bad_missing_or_expired_signatures_are_401_and_store_nothing(
    client: ApiClient,
    db: Database,
    case: str,
    how: Callable[[Hook, bytes], dict[str, Any]],
    detail: str,
) -> None:
    hook = await make_hook(client)
    body = payload(item(1))
    response = await deliver(client, hook, body, **how(hook, body))
    assert response.status_code == 401, (case, response.text)
    assert detail in response.json()["detail"]
    assert stored(db) == 0


async def test_a_replayed_delivery_is_409(client: ApiClient, db: Database) -> None:
    hook = await make_hook(client)
    body = payload(item(1))
    ts = int(time.time())
    first = await deliver(client, hook, body, timestamp=ts)
    assert first.status_code == 202
    replay = await deliver(client, hook, body, timestamp=ts)
    assert replay.status_code == 409
    assert "already received" in replay.json()["detail"]
    upper = sign(hook.secret, ts, body).upper().replace("SHA256=", "sha256=")
    assert (await deliver(client, hook, body, timestamp=ts, signature=upper)).status_code == 409
    assert stored(db) == 1


async def test_unknown_and_other_projects_sources_are_404(
    client: ApiClient, db: Database
) -> None:
    hook = await make_hook(client)
    other = await make_hook(client)  # another organisation's webhook
    feed = await client.post(
        f"/api/v1/projects/{hook.project_id}/sources",
        json={"kind": "rss", "name": "Feed", "url": "https://feeds.example.com/rss"},
        headers=hook.owner.headers,
    )
    body = payload(item(1))
    base = f"/api/v1/projects/{hook.project_id}/sources"
    paths = [
        f"{base}/{'0' * 32}/items",  # no such source
        f"{base}/{other.source_id}/items",  # another org's source, under my project
        f"/api/v1/projects/{other.project_id}/sources/{hook.source_id}/items",  # mine, theirs
        f"{base}/{feed.json()['id']}/items",  # not a webhook
        f"{base}/not-an-id/items",
    ]
    for path in paths:
        response = await deliver(client, hook, body, path=path)
        assert (response.status_code, response.json()) == (404, problem(404, "Source not found"))
    # signed with the other org's own secret, to the other org's source under my project
    response = await deliver(client, other, body, path=f"{base}/{other.source_id}/items")
    assert response.status_code == 404
    assert stored(db) == 0


async def test_a_disabled_source_refuses_deliveries(client: ApiClient, db: Database) -> None:
    hook = await make_hook(client, enabled=False)
    response = await deliver(client, hook, payload(item(1)))
    assert (response.status_code, response.json()) == (403, problem(403, "Source is disabled"))
    assert stored(db) == 0


MALFORMED = {
    "not JSON": b"{items: [",
    "not UTF-8": b'{"items": [{"title": "\xff"}]}',
    "no items": b'{"things": []}',
    "empty list": b'{"items": []}',
    "too many items": payload(*(item(n) for n in range(101))),
    "item without url": payload({k: v for k, v in item(1).items() if k != "url"}),
    "not an http url": payload(item(1, url="ftp://news.example.com/1")),
    "javascript url": payload(item(1, url="javascript:alert(1)")),
    "NUL in the title": payload(item(1, title="Story\u0000")),
    "unknown field": payload(item(1, author="Someone")),
    "bad published": payload(item(1, published="yesterday")),
    "bad media": payload(item(1, media=["file:///etc/passwd"])),
    "one bad item among good ones": payload(item(1), item(2, text="")),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_bodies_are_422_and_store_nothing(
    client: ApiClient, db: Database, case: str
) -> None:
    hook = await make_hook(client)
    response = await deliver(client, hook, MALFORMED[case])
    assert response.status_code == 422, (case, response.text)
    errors = response.json()["errors"]
    assert errors
    assert all(e["location"] == "body" and e["pointer"].startswith("#") for e in errors)
    # no submitted value echoed
    assert all(set(e) == {"type", "location", "pointer", "detail"} for e in errors)
    assert stored(db) == 0


async def test_a_body_over_1_mib_is_413(client: ApiClient, db: Database) -> None:
    hook = await make_hook(client)
    body = payload(item(1, text="word " * 220_000))
    assert len(body) > 1024 * 1024
    response = await deliver(client, hook, body)
    assert response.status_code == 413
    assert stored(db) == 0


async def test_deliveries_are_rate_limited(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(api_rate_limit_per_minute=3)
    async with client_for(app) as http:
        client = ApiClient(http)
        hook = await make_hook(client)
        codes = [(await deliver(client, hook, payload(item(n)))).status_code for n in range(4)]
        assert codes == [202, 202, 202, 429]
        limited = await deliver(client, hook, payload(item(9)))
        assert int(limited.headers["retry-after"]) >= 1


async def test_items_stay_when_their_source_is_deleted(
    client: ApiClient, db: Database
) -> None:
    hook = await make_hook(client)
    accepted = (await deliver(client, hook, payload(item(1)))).json()["accepted_ids"]
    deleted = await client.delete(
        f"/api/v1/projects/{hook.project_id}/sources/{hook.source_id}", headers=hook.owner.headers
    )
    assert deleted.status_code == 204
    assert ContentRepository(db).status(accepted[0]).state == ContentState.DRAFT
    assert (await deliver(client, hook, payload(item(2)))).status_code == 404
