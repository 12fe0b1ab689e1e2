"""Layers: z order, opacity, a fitted video with its sound, text fitting, a fade-out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autoclip_core.render.ffmpeg_binary import run_ffmpeg
from tests.core.render.helpers import (
    BLUE,
    FPS,
    RED,
    WHITE,
    Box,
    H,
    Rendered,
    W,
    band_rms,
    crop,
    decoded_audio,
    frame_at,
    frames_at,
    luma,
    mean_color,
    render,
)

LAYERS: dict[str, Any] = {
    "width": W, "height": H, "frame_rate": FPS, "duration": 2,
    "elements": [
        {"type": "image", "track": 1, "source": "red.png", "duration": 1.0},
        {"type": "image", "track": 1, "source": "blue.png", "duration": 1.0,
         "animations": [{"type": "slide", "duration": 0.5, "transition": True,
                         "direction": "180°"}]},
        {"name": "Front", "type": "shape", "x": 81, "y": 96, "width": 80, "height": 80,
         "fill_color": "#00ff00", "z_index": 2},
        {"name": "Back", "type": "shape", "x": 108, "y": 120, "width": 80, "height": 80,
         "fill_color": "#ffffff", "z_index": 1},
        {"name": "Ghost", "type": "shape", "x": 216, "y": 96, "width": 60, "height": 60,
         "fill_color": "#ffffff", "opacity": "50%"},
        {"name": "Clip", "type": "video", "source": "beep.mp4", "x": 135, "y": 250,
         "width": 160, "height": 160, "fit": "contain", "volume": "50%"},
        {"name": "Long", "type": "text", "x": 135, "y": 375, "width": 162, "height": 48,
         "text": "A long sentence that has to wrap and shrink to fit its box",
         "fill_color": "#ffff00", "x_alignment": "50%", "y_alignment": "50%"},
        {"name": "Bye", "type": "text", "x": 135, "y": 440, "width": 162, "height": 38,
         "text": "bye", "fill_color": "#ffffff",
         "animations": [{"type": "fade", "time": "end", "duration": 0.5}]},
    ],
}  # fmt: skip
LONG_BOX: Box = (54, 351, 216, 399)
BYE_BOX: Box = (54, 421, 216, 459)


@pytest.fixture(scope="module")
def layers(media: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """A 160x90 white video with a 1 kHz beep, contained in a 160x160 box, among overlays."""
    run_ffmpeg(
        ["-y", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=1000:duration=2",
         "-f", "lavfi", "-i", "color=c=white:s=160x90:r=30:d=2", "-shortest",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(media / "beep.mp4")]
    )  # fmt: skip
    return render(LAYERS, tmp_path_factory.mktemp("layers"), "layers", media_dir=media)


def test_a_higher_z_index_is_drawn_on_top_whatever_the_order(layers: Rendered) -> None:
    frame = frame_at(layers.video, 0.3)
    overlap: Box = (75, 87, 115, 130)  # inside both squares
    assert mean_color(frame, overlap) == pytest.approx((0, 255, 0), abs=12)
    assert mean_color(frame, (125, 140, 145, 155)) == pytest.approx(WHITE, abs=12)  # Back only


def test_opacity_blends_an_element_with_what_is_behind_it(layers: Rendered) -> None:
    ghost: Box = (196, 76, 236, 116)
    half = tuple((a + b) / 2 for a, b in zip(WHITE, RED, strict=True))
    assert mean_color(frame_at(layers.video, 0.3), ghost) == pytest.approx(half, abs=15)


def test_a_contained_video_is_letterboxed_over_the_background(layers: Rendered) -> None:
    frame = frame_at(layers.video, 0.3)
    assert mean_color(frame, (60, 215, 210, 285)) == pytest.approx(WHITE, abs=12)  # 160x90
    assert mean_color(frame, (60, 175, 210, 200)) == pytest.approx(RED, abs=12)  # above it
    assert mean_color(frame, (60, 300, 210, 325)) == pytest.approx(RED, abs=12)  # below it


def test_a_videos_own_sound_is_mixed_in(layers: Rendered) -> None:
    audio = decoded_audio(layers.video)
    assert band_rms(audio, 0.5, 1.5, 900, 1100) > 100 * band_rms(audio, 0.5, 1.5, 2000, 3000)


def test_a_long_text_wraps_and_shrinks_to_fit_its_box(layers: Rendered) -> None:
    frame = frame_at(layers.video, 0.3)
    ink = crop(frame, LONG_BOX)[..., 1] > 100  # yellow glyphs on the red background
    rows, columns = np.nonzero(ink)
    assert rows.max() - rows.min() > 30  # three lines
    edges = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
    assert not edges.any()  # no glyph cut by the box
    above, below = (54, 339, 216, 351), (54, 399, 216, 411)
    assert not (crop(frame, above)[..., 1] > 100).any()
    assert not (crop(frame, below)[..., 1] > 100).any()
    assert columns.max() - columns.min() > 120  # wrapped at the box width, not a narrow column


def test_a_fade_out_at_the_end_dims_the_element_to_nothing(layers: Rendered) -> None:
    frames = frames_at(layers.video, [1.2, 1.75, 1.99])
    shown, fading, gone = (luma(frames[t], BYE_BOX) for t in (1.2, 1.75, 1.99))
    assert shown > fading > gone
    assert gone < 3  # black background only


def test_a_slide_transition_pushes_the_next_element_in_from_its_direction(
    layers: Rendered,
) -> None:
    """``direction: 180°``: the blue image enters from the right over 0.5-1.0 s."""
    frame = frame_at(layers.video, 0.75)
    assert mean_color(frame, (0, 180, 30, 400)) == pytest.approx(RED, abs=15)
    assert mean_color(frame, (240, 180, 270, 400)) == pytest.approx(BLUE, abs=15)
