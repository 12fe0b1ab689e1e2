"""``Idempotency-Key`` on POST /contents, /generate, /approve and /publish: a retry gets the
first answer and changes nothing; the key with another request, or while the first is still
being answered, is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI

from autoclip_api.contents.schemas import GenerateRequest
from autoclip_api.core.idempotency import fingerprint
from autoclip_core.db.idempotency import IdempotencyRepository
from autoclip_core.db.jobs import JobRepository
from autoclip_core.db.models import utcnow
from tests.api.contents_setup import (
    ARTICLE,
    api,
    contents_app,
    dagster,
    new_item,
    pipeline_made,
    runs_ended,
    studio,
)
from tests.api.helpers import ApiClient
from tests.fakes.dagster_graphql import FakeDagster

__all__ = ["api", "contents_app", "dagster"]

pytestmark = pytest.mark.anyio


def key(name: str) -> dict[str, str]:
    return {"Idempotency-Key": name}


async def test_a_retried_create_gets_the_same_item_and_makes_no_second(api: ApiClient) -> None:
    s = await studio(api)
    body = {"project_id": s.project_id, "text": ARTICLE}
    headers = {**s.owner.headers, **key("create-1")}
    first = await api.post("/api/v1/contents", json=body, headers=headers)
    again = await api.post("/api/v1/contents", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    listed = await api.get("/api/v1/contents", headers=s.owner.headers)
    assert len(listed.json()["items"]) == 1
    other = await api.post("/api/v1/contents", json={**body, "title": "Another"}, headers=headers)
    assert other.status_code == 422
    [error] = other.json()["errors"]
    assert (error["location"], error["pointer"]) == ("header", "#/Idempotency-Key")


async def test_a_retried_generate_starts_one_run(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    path = f"/api/v1/contents/{item['id']}/generate"
    headers = {**s.owner.headers, **key("gen-1")}
    first = await api.post(path, json={}, headers=headers)
    again = await api.post(path, headers=headers)  # no body is the same request as {}
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert len(dagster.runs) == 1
    assert len(JobRepository(contents_app.state.api.database).records(item["id"])) == 1
    # the same key for another item is another request
    other = await new_item(api, s.owner, s.project_id)
    reused = await api.post(f"/api/v1/contents/{other['id']}/generate", headers=headers)
    assert reused.status_code == 422


async def test_a_key_still_in_flight_is_a_409(api: ApiClient, contents_app: FastAPI) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    route = "POST /contents/{content_id}/generate"
    request = fingerprint({"content_id": item["id"]}, GenerateRequest())
    keys = IdempotencyRepository(contents_app.state.api.database)
    assert keys.begin(s.owner.user_id, route, "busy", request) is None  # the first request
    response = await api.post(
        f"/api/v1/contents/{item['id']}/generate", headers={**s.owner.headers, **key("busy")}
    )
    assert response.status_code == 409
    assert "still being answered" in response.json()["detail"]
    # a first request whose process died: after the in-flight timeout the key is free again
    later = utcnow() + timedelta(minutes=3)
    assert keys.begin(s.owner.user_id, route, "busy", request, now=later) is None


async def test_an_answered_conflict_is_replayed_not_recomputed(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api, review_required=True)
    item = await new_item(api, s.owner, s.project_id)
    path = f"/api/v1/contents/{item['id']}/approve"
    headers = {**s.owner.headers, **key("approve-1")}
    early = await api.post(path, headers=headers)
    assert early.status_code == 409
    pipeline_made(contents_app, item["id"])
    replayed = await api.post(path, headers=headers)
    assert replayed.status_code == 409
    assert replayed.json() == early.json()
    assert replayed.headers["content-type"] == "application/problem+json"
    approved = await api.post(path, headers={**s.owner.headers, **key("approve-2")})
    assert approved.status_code == 200
    assert len(dagster.runs) == 1  # the publication it started


async def test_a_retried_publish_requests_one_publication(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    pipeline_made(contents_app, item["id"])
    path = f"/api/v1/contents/{item['id']}/publish"
    headers = {**s.owner.headers, **key("pub-1")}
    first = await api.post(path, json={"channels": [s.channel["id"]]}, headers=headers)
    again = await api.post(path, json={"channels": [s.channel["id"]]}, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert len(dagster.runs) == 1
    runs_ended(contents_app, item["id"])


async def test_keys_are_per_user(api: ApiClient) -> None:
    s = await studio(api)
    admin = await api.member(s.owner, "admin")
    body = {"project_id": s.project_id, "text": ARTICLE}
    mine = await api.post("/api/v1/contents", json=body, headers={**s.owner.headers, **key("k")})
    theirs = await api.post("/api/v1/contents", json=body, headers={**admin.headers, **key("k")})
    assert mine.json()["id"] != theirs.json()["id"]


async def test_a_key_is_printable_ascii_of_at_most_255(api: ApiClient) -> None:
    s = await studio(api)
    body = {"project_id": s.project_id, "text": ARTICLE}
    for bad in ("x" * 256, "with space"):
        response = await api.post(
            "/api/v1/contents", json=body, headers={**s.owner.headers, **key(bad)}
        )
        assert response.status_code == 422


async def test_a_key_lives_24_hours(api: ApiClient, contents_app: FastAPI) -> None:
    s = await studio(api)
    keys = IdempotencyRepository(contents_app.state.api.database)
    then = utcnow()
    assert keys.begin(s.owner.user_id, "POST /contents", "day", "a", now=then) is None
    keys.finish(s.owner.user_id, "POST /contents", "day", 201, "{}")
    stored = keys.begin(
        s.owner.user_id, "POST /contents", "day", "b", now=then + timedelta(hours=23)
    )
    assert stored is not None
    assert (stored.fingerprint, stored.status_code) == ("a", 201)
    later = then + timedelta(hours=24, seconds=1)
    assert keys.begin(s.owner.user_id, "POST /contents", "day", "b", now=later) is None
