from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from autoclip_core.ingest.config import JsonApiSource, JsonMapping, Limits, YoutubeEndpoints
from autoclip_core.ingest.json_api import poll_json_api, resolve
from autoclip_core.ingest.poll import PollContext, SourceError
from autoclip_core.ingest.state import SourceState
from tests.fakes.server import FakeServer, Reply, Request, redirect

MAPPING = JsonMapping(
    items="data.articles",
    id="uuid",
    title="headline",
    text="body.paragraphs",
    url="links.web",
    published="meta.published",
    media="images[].src",
    author="byline.name",
)


def page(n: int, next_url: str | None) -> bytes:
    articles = [
        {
            "uuid": f"{n}-{i}",
            "headline": f"<em>Story</em> {n}-{i}",
            "body": {"paragraphs": [f"Paragraph one of {n}-{i}.", "Paragraph two."]},
            "links": {"web": f"/articles/{n}-{i}"},
            "meta": {"published": 1714554000 + i},
            "images": [{"src": "https://cdn.example.com/1.jpg"}, {"src": "javascript:x"}],
            "byline": {"name": "Reporter"},
        }
        for i in range(2)
    ]
    return json.dumps({"data": {"articles": articles}, "next": next_url}).encode()


def ctx() -> PollContext:
    limits = Limits(fetch_timeout_s=5)
    return PollContext("p", "w", limits, YoutubeEndpoints(), datetime.now(UTC))


def test_paths_resolve_dicts_lists_and_mapped_lists() -> None:
    data = {"a": {"b": [{"c": 1}, {"c": 2}, {"d": 3}]}, "top": [10, 20]}
    assert resolve(data, "a.b[].c") == [1, 2]
    assert resolve(data, "a.b.1.c") == 2
    assert resolve(data, "top.-1") == 20
    assert resolve(data, "a.missing.x") is None
    assert resolve(data, "") is data
    assert resolve([{"x": 1}], "[].x") == [1]


@pytest.mark.usefixtures("allow_loopback")
def test_items_are_mapped_across_pages_with_auth_from_a_secret(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIRE_TOKEN", "t0ken")

    def first(request: Request) -> Reply:
        if request.headers.get("authorization") != "Bearer t0ken":
            return Reply(status=401)
        return Reply(body=page(1, "/api?page=2"), headers={"ETag": '"p1"'})

    def serve(request: Request) -> Reply:
        return first(request) if "page" not in request.query else Reply(body=page(2, None))

    fake_server.route("/api", serve)
    source = JsonApiSource(
        name="wire",
        url=fake_server.url("/api"),
        mapping=MAPPING.model_copy(update={"next_page": "next"}),
        auth={"header": "Authorization", "secret_env": "WIRE_TOKEN", "prefix": "Bearer "},
    )
    result = poll_json_api(source, SourceState(), ctx())
    items = [c.item for c in result.candidates]
    assert [i.title for i in items] == ["Story 1-0", "Story 1-1", "Story 2-0", "Story 2-1"]
    first_item = items[0]
    assert first_item.url == fake_server.url("/articles/1-0")
    assert first_item.text == "Paragraph one of 1-0.\n\nParagraph two."
    assert first_item.published_at == datetime(2024, 5, 1, 9, tzinfo=UTC)
    assert first_item.media_links == ["https://cdn.example.com/1.jpg"]
    assert first_item.author == "Reporter"
    assert result.etag == '"p1"'
    poll_json_api(source, SourceState(etag='"p1"'), ctx())
    first_page, second_page = fake_server.hits("/api")[2:]
    assert first_page.headers["if-none-match"] == '"p1"'  # only the first page is conditional
    assert "if-none-match" not in second_page.headers


def test_a_missing_secret_is_a_readable_source_error() -> None:
    source = JsonApiSource(
        name="wire", url="https://api.example.com/", auth={"secret_env": "SURELY_NOT_SET_TOKEN"}
    )
    with pytest.raises(SourceError, match="SURELY_NOT_SET_TOKEN is not set"):
        poll_json_api(source, SourceState(), ctx())


@pytest.mark.usefixtures("allow_loopback")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>not json</html>", "did not return JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "did not return JSON"),
        (b'{"data": {"articles": {"not": "a list"}}}', "no list at 'data.articles'"),
    ],
)
def test_bad_responses_are_readable_errors(
    fake_server: FakeServer, body: bytes, message: str
) -> None:
    url = fake_server.route("/api", Reply(body=body))
    with pytest.raises(SourceError, match=message):
        poll_json_api(JsonApiSource(name="w", url=url, mapping=MAPPING), SourceState(), ctx())


@pytest.mark.usefixtures("allow_loopback")
def test_the_secret_does_not_follow_a_redirect_to_another_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.fakes.net import running_server

    monkeypatch.setenv("WIRE_TOKEN", "t0ken")
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.0/8")
    try:
        other_host = running_server("127.0.0.2")  # another host on this machine
        elsewhere = other_host.__enter__()
    except OSError:
        pytest.skip("cannot listen on 127.0.0.2 here")
    try:
        with running_server() as api:
            api.route("/api", redirect(elsewhere.route("/steal", Reply(body=page(1, None)))))
            source = JsonApiSource(
                name="w", url=api.url("/api"), mapping=MAPPING, auth={"secret_env": "WIRE_TOKEN"}
            )
            assert len(poll_json_api(source, SourceState(), ctx()).candidates) == 2
            assert api.hits("/api")[0].headers["authorization"] == "t0ken"
            assert "authorization" not in elsewhere.hits("/steal")[0].headers
    finally:
        other_host.__exit__(None, None, None)
