"""Elements in sequence: media durations, transitions, compositions, video sources, zoom."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autoclip_core.render.ffmpeg_binary import run_ffmpeg
from autoclip_core.render.probe import probe
from tests.core.render.helpers import (
    BLUE,
    FPS,
    RED,
    YELLOW,
    Box,
    H,
    Rendered,
    W,
    bright_centroid,
    count_color,
    decoded_audio,
    frame_at,
    frames_at,
    mean_color,
    render,
    write_dot_image,
)


@pytest.fixture(scope="module")
def sequence(media: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """A 1 s red video (``duration: "media"``), a blue image faded in over it, a card."""
    folder = tmp_path_factory.mktemp("sequence")
    run_ffmpeg(
        ["-y", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=0xdc1414:s=320x240:r=25:d=1",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", str(media / "red.mp4")]
    )  # fmt: skip
    template = {
        "width": W, "height": H, "frame_rate": FPS,
        "elements": [
            {"name": "Clip", "type": "video", "track": 1, "source": "red.mp4",
             "duration": "media"},
            {"name": "Blue", "type": "image", "track": 1, "source": "blue.png", "duration": 1.0,
             "animations": [{"type": "fade", "duration": 0.5, "transition": True}]},
            {"name": "Card", "type": "composition", "track": 1, "duration": 1.0,
             "fill_color": "#ffff00",
             "elements": [{"type": "text", "text": "END", "y": "20%", "height": "15%",
                           "fill_color": "#000000"}]},
        ],
    }  # fmt: skip
    return render(template, folder, "sequence", media_dir=media)


def test_without_a_duration_the_video_lasts_until_the_last_element_ends(
    sequence: Rendered,
) -> None:
    """1 s of video + 1 s of image starting 0.5 s early (transition) + 1 s card = 2.5 s."""
    media = probe(sequence.video)
    assert sequence.stats.duration == pytest.approx(2.5)
    assert media.duration == pytest.approx(2.5, abs=1 / FPS)
    assert media.video is not None
    assert media.video.frames == 75


def test_a_transition_crossfades_a_track_neighbour_into_the_previous_element(
    sequence: Rendered,
) -> None:
    frames = frames_at(sequence.video, [0.25, 0.75, 1.2])
    centre: Box = (100, 200, 170, 280)
    assert mean_color(frames[0.25], centre) == pytest.approx(RED, abs=15)
    r, g, b = mean_color(frames[0.75], centre)
    assert 70 < r < 170
    assert 70 < b < 170
    assert g < 40
    assert mean_color(frames[1.2], centre) == pytest.approx(BLUE, abs=15)


def test_a_composition_shows_its_fill_color(sequence: Rendered) -> None:
    frame = frame_at(sequence.video, 2.2)
    assert mean_color(frame, (0, 300, W, 400)) == pytest.approx(YELLOW, abs=12)


def test_a_composition_with_a_duration_shows_its_children(sequence: Rendered) -> None:
    frame = frame_at(sequence.video, 2.2)
    text_band: Box = (0, 60, W, 130)  # y 20% ± 7.5%
    assert count_color(frame, text_band, (0, 0, 0), 60) > 100


def test_a_template_without_sound_still_has_a_silent_aac_track(sequence: Rendered) -> None:
    media = probe(sequence.video)
    assert media.audio is not None
    assert media.audio.codec == "aac"
    assert np.abs(decoded_audio(sequence.video)).max() < 1e-3


@pytest.mark.parametrize("source", ["dot.png", "dot.mp4"])
def test_a_scale_animation_zooms_in_smoothly_about_the_centre(
    source: str, media: Path, tmp_path: Path
) -> None:
    """Ken Burns 100% → 150% over 2 s, of a still or a video: a dot follows the ideal path."""
    dot = (180, 160)
    write_dot_image(media / "dot.png", (W, H), dot, radius=6)
    if source.endswith(".mp4"):
        run_ffmpeg(
            ["-y", "-loglevel", "error", "-loop", "1", "-i", str(media / "dot.png"), "-t", "2",
             "-r", str(FPS), "-c:v", "libx264", "-crf", "10", "-pix_fmt", "yuv420p",
             str(media / source)]
        )  # fmt: skip
    template = {
        "width": W, "height": H, "frame_rate": FPS, "duration": 2,
        "elements": [{"type": "video" if source.endswith(".mp4") else "image", "track": 1,
                      "source": source,
                      "animations": [{"type": "scale", "start_scale": "100%",
                                      "end_scale": "150%"}]}],
    }  # fmt: skip
    video = render(template, tmp_path, "zoom", media_dir=media).video
    cx, cy = (W - 1) / 2, (H - 1) / 2
    frames = frames_at(video, [n / FPS for n in range(0, 60, 3)])
    for n in range(0, 60, 3):
        zoom = 1 + 0.5 * n / 59
        ideal = (cx + (dot[0] - cx) * zoom, cy + (dot[1] - cy) * zoom)
        box = (round(ideal[0]) - 20, round(ideal[1]) - 20, round(ideal[0]) + 20,
               round(ideal[1]) + 20)  # fmt: skip
        x, y = bright_centroid(frames[n / FPS], box)
        assert (x, y) == pytest.approx(ideal, abs=0.5), n
