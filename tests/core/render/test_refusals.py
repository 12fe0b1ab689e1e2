"""Templates the engine refuses before spending CPU, naming the JSON path of the problem."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from autoclip_core.render.engine import FFmpegEngine, RenderError, RenderJob, thread_pool
from autoclip_core.render.renderscript import TemplateError, parse_render_script
from tests.core.render.helpers import (
    BASE,
    MUSIC_BAND,
    H,
    W,
    band_rms,
    changed,
    decoded_audio,
    plus,
    render,
)

CAPTION_IN_COMPOSITION = {
    "type": "composition", "duration": 1,
    "elements": [{"type": "text", "transcript_source": "Voice"}],
}  # fmt: skip
NESTED_VOICE = {
    "type": "composition", "duration": 1,
    "elements": [{"name": "Inner", "type": "audio", "source": "voice.wav"}],
}  # fmt: skip
REFUSED = [
    pytest.param(
        plus({"type": "text", "text": "x", "duration": "media"}),
        "elements[3].duration",
        "'media' is only for video and audio",
        id="media-duration-on-text",
    ),
    pytest.param(
        changed(0, source="nowhere.png"),
        "elements[0].source",
        "media file not found",
        id="missing-image",
    ),
    pytest.param(
        plus(
            {
                "type": "composition",
                "duration": 1,
                "elements": [{"type": "text", "text": "x"}, {"type": "image", "source": "no.png"}],
            }
        ),
        "elements[3].elements[1].source",
        "media file not found",
        id="missing-nested-image",
    ),
    pytest.param(
        changed(0, source="corrupt.png"),
        "elements[0].source",
        "not a readable image",
        id="corrupt-image",
    ),
    pytest.param(
        changed(1, source="corrupt.wav"),
        "elements[1].source",
        "unusable media",
        id="corrupt-audio",
    ),
    pytest.param(
        changed(1, source="red.png"), "elements[1].source", "has no audio", id="image-as-audio"
    ),
    pytest.param(
        changed(0, source="ftp://example.com/x.png"),
        "elements[0].source",
        "unsupported source scheme",
        id="ftp-source",
    ),
    pytest.param(
        changed(1, source="unscripted.wav"),
        "elements[2].transcript_source",
        "no transcript for unscripted.wav",
        id="transcript-source-without-sidecar",
    ),
    pytest.param(
        changed(2, transcript_source="Narrator"),
        "elements[2].transcript_source",
        "no audio element named 'Narrator'",
        id="unknown-transcript-source",
    ),
    pytest.param(
        plus(NESTED_VOICE, base=changed(2, transcript_source="Inner")),
        "elements[2].transcript_source",
        "top-level audio element",
        id="transcript-source-inside-a-composition",
    ),
    pytest.param(
        plus(CAPTION_IN_COMPOSITION),
        "elements[3]",
        "must be top-level elements",
        id="captions-inside-a-composition",
    ),
    pytest.param(
        plus({"type": "audio", "source": "music.wav", "duck_under": "Narrator"}),
        "elements[3].duck_under",
        "no other audio element named 'Narrator'",
        id="duck-under-unknown",
    ),
    pytest.param(
        plus({"name": "Music", "type": "audio", "source": "music.wav", "duck_under": "Music"}),
        "elements[3].duck_under",
        "no other audio element named 'Music'",
        id="duck-under-itself",
    ),
    pytest.param(
        plus({"type": "text", "text": "x", "font_family": "No Such Font Family"}),
        "elements[3].font_family",
        "unknown font 'No Such Font Family'",
        id="unknown-font",
    ),
    pytest.param(
        changed(2, font_family="NoSuchFont"),
        "elements[2].font_family",
        "unknown font 'NoSuchFont'",
        id="unknown-caption-font",
    ),
    pytest.param(
        plus(
            {
                "type": "image",
                "track": 1,
                "source": "blue.png",
                "duration": 0.5,
                "animations": [{"type": "fade", "duration": 1, "transition": True}],
            }
        ),
        "elements[3].animations",
        "longer than the element",
        id="transition-longer-than-element",
    ),
    pytest.param(
        plus(
            {"type": "image", "track": 1, "source": "blue.png", "duration": 1},
            base=changed(0, duration=None),
        ),
        "elements[3]",
        "which has no end",
        id="follows-an-open-ended-element",
    ),
    pytest.param(
        changed(0, animations=[{"type": "scale", "start_scale": "100%", "end_scale": "90%"}]),
        "elements[0].animations",
        "zooms in only",
        id="zoom-out",
    ),
    pytest.param(
        changed(1, trim_start=10), "elements[1].trim_start", "past the end", id="trim-past-end"
    ),
    pytest.param(
        changed(0, width="-10%"), "elements[0]", "must be at least 1x1 px", id="negative-width"
    ),
    pytest.param(
        {"width": W, "height": H, "elements": [{"type": "text", "text": "forever"}]},
        "duration",
        "cannot tell how long the video is",
        id="no-duration-anywhere",
    ),
]


@pytest.mark.parametrize(("template", "path", "message"), REFUSED)
def test_an_unrenderable_template_is_refused_naming_its_json_path_before_rendering(
    template: dict[str, Any], path: str, message: str, media: Path, tmp_path: Path
) -> None:
    script = parse_render_script(template)  # valid RenderScript: the engine finds the problem
    out = tmp_path / "never.mp4"
    with pytest.raises(TemplateError) as raised:
        FFmpegEngine().render(RenderJob(script, out, media))
    assert raised.value.path == path
    assert message in raised.value.message
    assert not out.exists()


def test_a_snapshot_that_is_not_png_or_jpeg_is_refused(media: Path, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="snapshot must be one of"):
        FFmpegEngine().render(
            RenderJob(parse_render_script(BASE), tmp_path / "x.mp4", media, tmp_path / "x.gif")
        )


def test_ducking_under_a_muted_voice_renders_the_music_unducked(
    media: Path, tmp_path: Path
) -> None:
    template = plus(
        {"type": "audio", "source": "music.wav", "duration": 3, "duck_under": "Voice"},
        base=changed(1, volume="0%"),
    )
    audio = decoded_audio(render(template, tmp_path, "muted", media_dir=media).video)
    during, after = (band_rms(audio, *window, *MUSIC_BAND) for window in [(0.8, 1.8), (2.1, 2.9)])
    assert during == pytest.approx(after, rel=0.5)  # the silent voice does not duck it


def test_a_box_smaller_than_a_pixel_is_refused_as_a_template_error(
    media: Path, tmp_path: Path
) -> None:
    script = parse_render_script(plus({"type": "text", "text": "x", "width": "0.3px"}))
    with pytest.raises(TemplateError) as raised:
        FFmpegEngine().render(RenderJob(script, tmp_path / "x.mp4", media))
    assert raised.value.path == "elements[3]"
    assert "must be at least 1x1 px" in raised.value.message


def test_a_render_that_fails_while_planning_drops_the_stills_not_yet_drawn() -> None:
    """Stills are drawn ahead on a pool; a template error found meanwhile must not wait for
    every remaining still to be drawn (a long video has dozens) before it is reported."""
    running, drawn = threading.Event(), []

    def plan() -> None:
        with thread_pool(1, "stills") as pool:
            pool.submit(lambda: running.set() or time.sleep(0.3))
            pool.submit(lambda: drawn.append("the second still"))
            running.wait(5)
            raise TemplateError("elements[1]", "found while planning")

    with pytest.raises(TemplateError):
        plan()
    assert drawn == []
