"""Templates: the built-ins read-only, an organisation's own checked on every write (before
anything renders), and previews rendered for real by the engine."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from typing import Any

import av
import pytest
from fastapi import FastAPI
from PIL import Image

from autoclip_api.core.errors import ServiceUnavailable
from autoclip_api.templates.preview import Preview, PreviewRenderer
from autoclip_core.render.engine_config import EngineConfig
from autoclip_core.render.templates import load_template
from autoclip_core.template_checks import MAX_TEMPLATE_BYTES
from tests.api.helpers import Account, ApiClient, problem

pytestmark = pytest.mark.anyio

RED, BLUE = "#dc1414", "#1414dc"


def tiny(**changes: Any) -> dict[str, Any]:
    """Two seconds of a red background with a blue square from 1 s: cheap to render."""
    template: dict[str, Any] = {
        "width": 160,
        "height": 120,
        "frame_rate": 10,
        "duration": 2,
        "fill_color": RED,
        "elements": [
            {"name": "Box", "type": "shape", "track": 1, "time": 1, "duration": 1,
             "x": "50%", "y": "50%", "width": "50%", "height": "50%", "fill_color": BLUE},
        ],
    }  # fmt: skip
    template.update(changes)
    return template


async def create(
    client: ApiClient, account: Account, source: dict[str, Any], name: str = "Mine"
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/templates", json={"name": name, "source": source}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_the_builtins_are_listed_first_and_read_only(client: ApiClient) -> None:
    owner = await client.register()
    listed = (await client.get("/api/v1/templates", headers=owner.headers)).json()
    assert [t["id"] for t in listed["items"]] == ["short", "long", "square"]
    assert all(t["builtin"] and t["pipeline_ready"] for t in listed["items"])
    assert [(t["width"], t["height"]) for t in listed["items"]] == [
        (1080, 1920), (1920, 1080), (1080, 1080)
    ]  # fmt: skip
    short = (await client.get("/api/v1/templates/short", headers=owner.headers)).json()
    assert short["source"] == load_template("short")
    for method in ("patch", "delete"):
        kwargs: dict[str, Any] = {"json": {"name": "x"}} if method == "patch" else {}
        response = await getattr(client, method)(
            "/api/v1/templates/short", headers=owner.headers, **kwargs
        )
        assert response.status_code == 403
        assert "read-only" in response.json()["detail"]


async def test_create_read_update_delete_an_organisations_template(client: ApiClient) -> None:
    owner = await client.register()
    created = await create(client, owner, tiny())
    assert (created["builtin"], created["pipeline_ready"], created["width"]) == (False, False, 160)
    assert "Scene" in created["missing_elements"]
    url = f"/api/v1/templates/{created['id']}"
    assert (await client.get(url, headers=owner.headers)).json() == created
    for null in ({"name": None}, {"source": None}):  # no value to keep or set: refused
        refused = await client.patch(url, json=null, headers=owner.headers)
        assert refused.status_code == 422, (null, refused.text)
    patched = await client.patch(
        url, json={"name": "Renamed", "source": tiny(width=320)}, headers=owner.headers
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["width"]) == ("Renamed", 320)
    listed = (await client.get("/api/v1/templates", headers=owner.headers)).json()
    assert (listed["total"], listed["items"][-1]["id"]) == (4, created["id"])
    page = (await client.get("/api/v1/templates?offset=2&limit=2", headers=owner.headers)).json()
    assert [t["id"] for t in page["items"]] == ["square", created["id"]]
    assert (await client.delete(url, headers=owner.headers)).status_code == 204
    assert (await client.get(url, headers=owner.headers)).json() == problem(
        404, "Template not found"
    )


async def test_another_organisations_template_is_404_and_viewers_only_read(
    client: ApiClient,
) -> None:
    owner = await client.register()
    created = await create(client, owner, tiny())
    url = f"/api/v1/templates/{created['id']}"
    stranger = await client.register()
    for request in (
        client.get(url, headers=stranger.headers),
        client.patch(url, json={"name": "x"}, headers=stranger.headers),
        client.delete(url, headers=stranger.headers),
        client.get(f"{url}/preview", headers=stranger.headers),
    ):
        assert (await request).json() == problem(404, "Template not found")
    theirs = (await client.get("/api/v1/templates", headers=stranger.headers)).json()
    assert theirs["total"] == 3
    viewer = await client.member(owner, "viewer")
    assert (await client.get(url, headers=viewer.headers)).status_code == 200
    assert (await client.patch(url, json={"name": "x"}, headers=viewer.headers)).status_code == 403
    response = await client.post(
        "/api/v1/templates", json={"name": "x", "source": tiny()}, headers=viewer.headers
    )
    assert response.status_code == 403


def errors(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return [(e["pointer"], e["detail"]) for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("source", "pointer", "says"),
    [
        (tiny(width=161), "#/source/width", "even"),
        (tiny(elements=[{"type": "sphere"}]), "#/source/elements/0/type", "unsupported element"),
        (tiny(elements=[{"type": "text", "x": "ten"}]), "#/source/elements/0/x", "length"),
        (tiny(elements=[{"type": "text", "glow": 1}]), "#/source/elements/0/glow", "not supported"),
        (tiny(elements=[{"type": "image", "source": "/etc/passwd"}]),
         "#/source/elements/0/source", "not a path on the server"),
        (tiny(elements=[{"type": "image", "source": "../../media/x.png"}]),
         "#/source/elements/0/source", ".."),
        (tiny(elements=[{"type": "audio", "source": "~root/a.wav"}]),
         "#/source/elements/0/source", "not a path on the server"),
        (tiny(elements=[{"type": "video", "source": "file:///etc/passwd"}]),
         "#/source/elements/0/source", "scheme"),
        (tiny(elements=[{"type": "composition", "elements": [
            {"type": "image", "source": "/srv/x.png"}]}]),
         "#/source/elements/0/elements/0/source", "not a path on the server"),
        (tiny(elements=[]), "#/source/elements", "at least 1"),
    ],
)  # fmt: skip
async def test_an_invalid_template_is_422_naming_the_json_path(
    client: ApiClient, source: dict[str, Any], pointer: str, says: str
) -> None:
    owner = await client.register()
    response = await client.post(
        "/api/v1/templates", json={"name": "Bad", "source": source}, headers=owner.headers
    )
    found = errors(response)
    assert pointer in [p for p, _ in found], found
    assert says in dict(found)[pointer]
    created = await create(client, owner, tiny())
    patched = await client.patch(
        f"/api/v1/templates/{created['id']}", json={"source": source}, headers=owner.headers
    )
    assert pointer in [p for p, _ in errors(patched)]


def shapes(count: int) -> list[dict[str, Any]]:
    return [{"type": "shape", "track": 1, "duration": 1} for _ in range(count)]


async def test_size_and_element_limits_refuse_a_template_before_any_render(
    client: ApiClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_render(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a refused template reached the engine")

    monkeypatch.setattr("autoclip_core.template_checks.parse_render_script", no_render)
    monkeypatch.setattr(app.state.api.previews, "preview", no_render)
    owner = await client.register()
    padding = "x" * MAX_TEMPLATE_BYTES
    large = tiny(elements=[{**tiny()["elements"][0], "name": padding}])
    response = await client.post(
        "/api/v1/templates", json={"name": "Large", "source": large}, headers=owner.headers
    )
    assert response.status_code == 413
    assert str(MAX_TEMPLATE_BYTES) in response.json()["detail"]
    nested = [{"type": "composition", "track": 1, "duration": 1, "elements": shapes(99)}] * 5
    response = await client.post(
        "/api/v1/templates", json={"name": "Many", "source": tiny(elements=nested)},
        headers=owner.headers,
    )  # fmt: skip
    assert errors(response) == [
        ("#/source/elements", "500 elements; a template has fewer than 500")
    ]
    listed = (await client.get("/api/v1/templates", headers=owner.headers)).json()
    assert listed["total"] == 3  # nothing stored


async def test_a_template_projects_render_with_is_kept_and_keeps_its_pipeline_elements(
    client: ApiClient,
) -> None:
    owner = await client.register()
    source = load_template("square")
    created = await create(client, owner, source)
    assert created["pipeline_ready"] is True
    project = await client.post(
        "/api/v1/projects", json={"name": "P", "template_id": created["id"]}, headers=owner.headers
    )
    assert project.status_code == 201, project.text
    url = f"/api/v1/templates/{created['id']}"
    deleted = await client.delete(url, headers=owner.headers)
    assert deleted.status_code == 409
    assert project.json()["id"] in deleted.json()["detail"]
    without_music = {**source, "elements": [e for e in source["elements"] if e["name"] != "Music"]}
    response = await client.patch(url, json={"source": without_music}, headers=owner.headers)
    assert "Music" in dict(errors(response))["#/source/elements"]
    await client.patch(
        f"/api/v1/projects/{project.json()['id']}", json={"template_id": "short"},
        headers=owner.headers,
    )  # fmt: skip
    assert (await client.delete(url, headers=owner.headers)).status_code == 204


def pixel(png: bytes, xy: tuple[int, int]) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGB").getpixel(xy)  # type: ignore[return-value]


def close(a: tuple[int, int, int], b: str) -> bool:
    want = tuple(int(b[i : i + 2], 16) for i in (1, 3, 5))
    return all(abs(x - y) <= 12 for x, y in zip(a, want, strict=True))


async def test_a_preview_is_a_real_frame_rendered_at_the_asked_time(client: ApiClient) -> None:
    owner = await client.register()
    created = await create(client, owner, tiny())
    url = f"/api/v1/templates/{created['id']}/preview"
    before = await client.get(f"{url}?time=0.5", headers=owner.headers)
    assert before.status_code == 200, before.text
    assert before.headers["content-type"] == "image/png"
    assert before.headers["cache-control"] == "private"
    assert close(pixel(before.content, (80, 60)), RED)
    after = await client.get(f"{url}?time=1.5", headers=owner.headers)
    assert close(pixel(after.content, (80, 60)), BLUE)
    assert close(pixel(after.content, (5, 5)), RED)
    changed = await client.get(
        url, params={"time": 1.5, "modifications": json.dumps({"Box.fill_color": "#14dc14"})},
        headers=owner.headers,
    )  # fmt: skip
    assert close(pixel(changed.content, (80, 60)), "#14dc14")


async def test_an_mp4_preview_is_a_clip_of_at_most_five_seconds(client: ApiClient) -> None:
    owner = await client.register()
    created = await create(client, owner, tiny(duration=8))
    response = await client.get(
        f"/api/v1/templates/{created['id']}/preview?format=mp4&time=1", headers=owner.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(response.content)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.codec_context.width, stream.codec_context.height) == (160, 120)
    assert 0 < frames <= 5 * 10


async def test_a_builtin_preview_is_filled_as_for_a_sample_item(client: ApiClient) -> None:
    owner = await client.register()
    response = await client.get(
        "/api/v1/templates/square/preview",
        params={"time": 2, "modifications": json.dumps({"Title": "Hello"})},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.size == (1080, 1080)


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ({"modifications": "{not json"}, "#/modifications"),
        ({"modifications": "[1, 2]"}, "#/modifications"),
        ({"modifications": json.dumps({"Nope.text": "x"})}, "#/modifications"),
        ({"modifications": json.dumps({"Box.x": "ten"})}, "#/modifications/elements/0/x"),
        ({"modifications": json.dumps({"Box.source": "/etc/passwd", "Box.type": "image"})},
         "#/modifications/elements/0/source"),
        ({"time": "-1"}, "#/time"),
        ({"format": "gif"}, "#/format"),
    ],
)  # fmt: skip
async def test_a_bad_preview_request_is_422_before_any_render(
    client: ApiClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch,
    query: dict[str, str], pointer: str,
) -> None:  # fmt: skip
    def no_render(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a refused preview reached the engine")

    monkeypatch.setattr(app.state.api.previews, "preview", no_render)
    owner = await client.register()
    created = await create(client, owner, tiny())
    response = await client.get(
        f"/api/v1/templates/{created['id']}/preview", params=query, headers=owner.headers
    )
    assert response.status_code == 422, response.text
    assert pointer in [e["pointer"] for e in response.json()["errors"]]


async def test_previews_render_a_few_at_once_and_refuse_a_long_queue() -> None:
    renderer = PreviewRenderer(EngineConfig(), concurrency=2, max_waiting=1)
    release = threading.Event()
    running: list[int] = []
    peak = [0]

    def render(n: int) -> int:
        running.append(n)
        peak[0] = max(peak[0], len(running))
        release.wait(5)
        running.remove(n)
        return n

    tasks = [asyncio.create_task(renderer.run(render, n)) for n in range(3)]
    while len(running) < 2:
        await asyncio.sleep(0.01)
    with pytest.raises(ServiceUnavailable):
        await renderer.run(render, 3)  # two rendering, one waiting: the queue is full
    release.set()
    assert sorted(await asyncio.gather(*tasks)) == [0, 1, 2]
    assert peak[0] == 2
    assert await renderer.run(render, 4) == 4  # the queue drained


async def test_no_database_connection_is_held_while_a_preview_renders(
    client: ApiClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    held: list[int] = []

    async def render(*_args: object, **_kwargs: object) -> Preview:
        held.append(app.state.api.engine.pool.checkedout())
        return Preview(b"\x89PNG", "image/png")

    monkeypatch.setattr(app.state.api.previews, "preview", render)
    owner = await client.register()
    created = await create(client, owner, tiny())
    response = await client.get(f"/api/v1/templates/{created['id']}/preview", headers=owner.headers)
    assert (response.status_code, response.content) == (200, b"\x89PNG")
    assert held == [0]
