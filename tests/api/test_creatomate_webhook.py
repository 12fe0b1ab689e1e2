"""POST /api/v1/webhooks/creatomate/{token}: Creatomate's report of a finished render, heard
only at that render's own address, recorded where the render step looks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI

from autoclip_core.creatomate_webhook import callback_key, token
from tests.api.conftest import client_for

pytestmark = pytest.mark.anyio

SECRET = "route-test-secret-0123456789abcdef"
REPORT = {
    "id": "9b1f2c3d-0000-4000-8000-1234567890ab",
    "status": "succeeded",
    "url": "https://f002.backblazeb2.com/file/creatomate/9b1f.mp4",
    "metadata": "4f7a",
    "output_format": "mp4",
    "render_scale": 1,
}


def url(metadata: str, secret: str = SECRET) -> str:
    return f"/api/v1/webhooks/creatomate/{token(secret, metadata)}"


async def test_a_finished_render_is_recorded_for_the_waiting_step(
    app_factory: Callable[..., FastAPI], tmp_path: Path
) -> None:
    app = app_factory(creatomate_webhook_secret=SECRET)
    async with client_for(app) as http:
        response = await http.post(url("4f7a"), json=REPORT)
    assert response.status_code == 204, response.text
    recorded = app.state.api.settings.media_dir / callback_key(REPORT["id"])
    assert json.loads(recorded.read_text())["status"] == "succeeded"
    assert json.loads(recorded.read_text())["url"] == REPORT["url"]


async def test_a_report_at_another_address_or_unfinished_or_garbled_is_refused(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(creatomate_webhook_secret=SECRET)
    media = app.state.api.settings.media_dir
    async with client_for(app) as http:
        wrong_render = await http.post(url("another render"), json=REPORT)
        wrong_secret = await http.post(url("4f7a", "a guessed secret"), json=REPORT)
        not_a_token = await http.post("/api/v1/webhooks/creatomate/abc", json=REPORT)
        rendering = await http.post(url("4f7a"), json=REPORT | {"status": "rendering"})
        garbled = await http.post(
            url("4f7a"), content=b"{", headers={"Content-Type": "application/json"}
        )
    assert wrong_render.status_code == wrong_secret.status_code == 401
    assert wrong_render.headers["content-type"] == "application/problem+json"
    assert not_a_token.status_code == 422
    assert rendering.status_code == 400
    assert garbled.status_code == 400
    assert not (media / callback_key(REPORT["id"])).exists()


async def test_without_a_secret_the_route_is_not_there(
    app_factory: Callable[..., FastAPI],
) -> None:
    async with client_for(app_factory()) as http:
        response = await http.post(url("4f7a"), json=REPORT)
    assert response.status_code == 404
