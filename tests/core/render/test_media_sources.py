"""Media sources over http(s), through the SSRF-guarded fetcher."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoclip_core.render.engine import FFmpegEngine, RenderJob
from autoclip_core.render.renderscript import TemplateError, parse_render_script
from tests.core.render.helpers import BLUE, changed, frame_at, mean_color, plus, render
from tests.fakes.fixtures import _loopback_only, allow_loopback, fake_server
from tests.fakes.server import FakeServer, Reply

__all__ = ["_loopback_only", "allow_loopback", "fake_server"]  # fixtures used here


def test_a_source_on_a_private_address_is_refused_naming_the_source(
    media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUTOCLIP_FETCH_ALLOW_HOSTS", raising=False)
    script = parse_render_script(changed(0, source="http://127.0.0.1:9/x.png"))
    with pytest.raises(TemplateError) as raised:
        FFmpegEngine().render(RenderJob(script, tmp_path / "x.mp4", media))
    assert raised.value.path == "elements[0].source"
    assert "cannot fetch http://127.0.0.1:9/x.png" in raised.value.message
    assert "non-public address" in raised.value.message


@pytest.mark.usefixtures("allow_loopback")
def test_an_http_source_on_an_allowed_host_is_fetched_once_and_rendered(
    fake_server: FakeServer, media: Path, tmp_path: Path
) -> None:
    url = fake_server.route(
        "/blue.png", Reply(body=(media / "blue.png").read_bytes(),
                           headers={"Content-Type": "image/png"})
    )  # fmt: skip
    template = plus(
        {"type": "image", "source": url, "width": "50%", "height": "50%", "x": "25%", "y": "25%"},
        base=changed(0, source=url),
    )
    rendered = render(template, tmp_path, "fetched", media_dir=media)
    assert mean_color(frame_at(rendered.video, 1.0), (150, 300, 250, 400)) == pytest.approx(
        BLUE, abs=12
    )
    assert len(fake_server.hits("/blue.png")) == 1
