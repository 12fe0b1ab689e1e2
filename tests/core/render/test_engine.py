"""The local render engine: RenderScript templates → H.264/AAC mp4 by one ffmpeg graph.

Golden properties, not golden bytes: what a viewer would see and hear at known times.
Small templates (270×480) written here prove the rules; each built-in template is
rendered once at full size with ~3 s of real narration.
"""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from autoclip_core.render.audio_mix import loudness_correction, mix_audio
from autoclip_core.render.captions import (
    Word,
    build_captions_ass,
    words_from_cues,
    write_transcript,
)
from autoclip_core.render.engine import (
    FFmpegEngine,
    RenderError,
    RenderJob,
    caption_tracks,
    thread_pool,
)
from autoclip_core.render.ffmpeg_binary import run_ffmpeg
from autoclip_core.render.media_sources import MediaResolver
from autoclip_core.render.music import write_music_bed
from autoclip_core.render.probe import LoudnessStats, measure_loudness, probe
from autoclip_core.render.renderscript import TemplateError, parse_render_script
from autoclip_core.render.templates import (
    BUILTIN_TEMPLATES,
    apply_modifications,
    load_template,
    repeat_element,
)
from autoclip_core.render.timeline import resolve_timeline
from resources.tts.espeak import EspeakTTS
from tests.core.render.helpers import (
    SAMPLE_RATE,
    Box,
    Rendered,
    band_rms,
    bright_centroid,
    bright_centroid_x,
    count_color,
    crop,
    decoded_audio,
    frame_at,
    frames_at,
    luma,
    mean_color,
    render,
    write_dot_image,
    write_image,
    write_tone,
    write_voice,
    write_wav,
)
from tests.fakes.fixtures import _loopback_only, allow_loopback, fake_server
from tests.fakes.server import FakeServer, Reply

__all__ = ["_loopback_only", "allow_loopback", "fake_server"]  # fixtures used here

W, H, FPS = 270, 480, 30
RED, GREEN, BLUE = (220, 20, 20), (0, 255, 0), (20, 20, 220)
WHITE, YELLOW, MAGENTA = (255, 255, 255), (255, 255, 0), (255, 0, 255)
VOICE_HZ = 3000.0
"""The test voice is a tone well above the music bed's chords (175-800 Hz)."""
MUSIC_BAND = (100.0, 900.0)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Solid images, a voice (a tone while its two words are spoken) and the music bed."""
    folder = tmp_path_factory.mktemp("media")
    write_image(folder / "red.png", RED)
    write_image(folder / "blue.png", BLUE)
    write_voice(
        folder / "voice.wav",
        3.0,
        [("Hello", 0.5, 1.0), ("world", 1.0, 2.0)],
        frequency=VOICE_HZ,
    )
    write_tone(folder / "unscripted.wav", 1.0)  # no transcript sidecar
    write_music_bed(folder / "music.wav")
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n but then nothing")
    (folder / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    return folder


def percent_box(element: dict[str, Any], size: tuple[int, int], margin: int = 0) -> Box:
    """The pixel box of an element placed with ``%`` x/y/width/height (anchor at its centre)."""
    w, h = size

    def share(key: str) -> float:
        return float(str(element[key]).rstrip("%")) / 100

    cx, cy, bw, bh = share("x") * w, share("y") * h, share("width") * w, share("height") * h
    return (
        max(round(cx - bw / 2) - margin, 0),
        max(round(cy - bh / 2) - margin, 0),
        min(round(cx + bw / 2) + margin, w),
        min(round(cy + bh / 2) + margin, h),
    )


# A small valid template; refusal, SSRF and CLI tests change one thing in it.
BASE: dict[str, Any] = {
    "width": W,
    "height": H,
    "frame_rate": FPS,
    "elements": [
        {"name": "Bg", "type": "image", "track": 1, "time": 0, "duration": 2,
         "source": "red.png"},
        {"name": "Voice", "type": "audio", "track": 2, "source": "voice.wav"},
        {"name": "Captions", "type": "text", "transcript_source": "Voice"},
    ],
}  # fmt: skip


def changed(index: int, **changes: Any) -> dict[str, Any]:
    """BASE with element ``index`` updated (a value of None removes the property)."""
    template = copy.deepcopy(BASE)
    element = template["elements"][index]
    element.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del element[key]
    return template


def plus(*elements: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """BASE (or ``base``) with ``elements`` appended: the first is ``elements[3]``."""
    template = copy.deepcopy(base or BASE)
    template["elements"].extend(copy.deepcopy(list(elements)))
    return template


# ---- one small template that exercises most of the engine -------------------------------

SHOWCASE: dict[str, Any] = {
    "width": W,
    "height": H,
    "frame_rate": FPS,
    "duration": 4,
    "fill_color": "#00ff00",
    "snapshot_time": 0.7,
    "elements": [
        {"name": "Red", "type": "image", "track": 1, "time": 0, "duration": 1.5,
         "source": "red.png"},
        {"name": "Blue", "type": "image", "track": 1, "time": 2.0, "duration": 2.0,
         "source": "blue.png"},
        {"name": "Badge", "type": "text", "track": 2, "time": 1.0, "duration": 1.0,
         "text": "NEW", "x": "50%", "y": "15%", "width": "60%", "height": "10%",
         "fill_color": "#000000", "background_color": "#ffff00"},
        {"name": "Fader", "type": "shape", "track": 3, "x": "20%", "y": "30%",
         "width": 60, "height": 60, "fill_color": "#ffffff",
         "animations": [{"type": "fade", "time": "start", "duration": 1.0}]},
        {"name": "Slider", "type": "shape", "track": 4, "x": "50%", "y": "85%",
         "width": 40, "height": 40, "fill_color": "#ffffff",
         "animations": [{"type": "slide", "time": "start", "duration": 1.0,
                         "direction": "0°", "distance": "100px"}]},
        {"name": "Voice", "type": "audio", "track": 5, "time": 0, "source": "voice.wav"},
        {"name": "Music", "type": "audio", "track": 6, "time": 0, "source": "music.wav",
         "loop": True, "volume": "60%", "audio_fade_in": 0.2, "audio_fade_out": 1.0,
         "duck_under": "Voice"},
        {"name": "Captions", "type": "text", "track": 7, "y": "55%", "width": "90%",
         "height": "12%", "font_size": 28, "fill_color": "#ffffff",
         "transcript_source": "Voice", "transcript_effect": "highlight",
         "transcript_color": "#ff00ff"},
    ],
}  # fmt: skip
SHOWCASE_SECONDS = 4.0
CAPTION_BOX: Box = (0, 235, W, 293)  # y 55% ± 6% of 480
BADGE_BOX: Box = (27, 48, 243, 96)  # y 15%, 60% x 10%
FADER_BOX: Box = (34, 114, 74, 174)  # 60 px square at (20%, 30%), minus a 10 px rim
SLIDER_BAND: Box = (0, 388, W, 428)  # y 85% ± 20 px
GAP_PATCH: Box = (190, 310, 260, 370)  # right side, clear of every overlay


@pytest.fixture(scope="module")
def showcase(media: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render(SHOWCASE, tmp_path_factory.mktemp("showcase"), "showcase", media_dir=media,
                  snapshot=True)  # fmt: skip


@pytest.fixture(scope="module")
def showcase_audio(showcase: Rendered) -> np.ndarray:
    return decoded_audio(showcase.video)


def test_output_is_h264_yuv420p_and_aac_48k_stereo_of_the_template_size_rate_and_duration(
    showcase: Rendered,
) -> None:
    media = probe(showcase.video)
    assert "mp4" in media.format_name
    assert media.video is not None
    assert media.audio is not None
    assert (media.video.width, media.video.height) == (W, H)
    assert media.video.fps == FPS
    assert (media.video.codec, media.video.pix_fmt) == ("h264", "yuv420p")
    assert media.video.frames == SHOWCASE_SECONDS * FPS
    assert media.duration == pytest.approx(SHOWCASE_SECONDS, abs=1 / FPS)
    assert (media.audio.codec, media.audio.sample_rate, media.audio.channels) == ("aac", 48_000, 2)
    assert showcase.stats.duration == SHOWCASE_SECONDS
    assert showcase.stats.size_bytes == showcase.video.stat().st_size


def test_images_on_a_track_show_at_their_times_and_a_gap_shows_the_fill_color(
    showcase: Rendered,
) -> None:
    frames = frames_at(showcase.video, [0.5, 1.75, 3.0])
    assert mean_color(frames[0.5], GAP_PATCH) == pytest.approx(RED, abs=12)
    assert mean_color(frames[1.75], GAP_PATCH) == pytest.approx(GREEN, abs=12)
    assert mean_color(frames[3.0], GAP_PATCH) == pytest.approx(BLUE, abs=12)


def test_an_overlay_appears_only_during_its_time_window(showcase: Rendered) -> None:
    frames = frames_at(showcase.video, [0.9, 1.05, 1.5, 1.95, 2.05, 3.0])
    inside = {t: count_color(frames[t], BADGE_BOX, YELLOW) for t in frames}
    area = (BADGE_BOX[2] - BADGE_BOX[0]) * (BADGE_BOX[3] - BADGE_BOX[1])
    assert inside[0.9] == inside[2.05] == inside[3.0] == 0
    for t in (1.05, 1.5, 1.95):
        assert inside[t] > area / 2, t


def test_a_slide_in_moves_the_element_from_its_distance_to_its_place(showcase: Rendered) -> None:
    """``direction: 0°, distance: 100px`` over 1 s, linear: from 100 px left of its place."""
    frames = frames_at(showcase.video, [0.0, 0.5, 1.5, 3.0])
    rest = W / 2
    assert bright_centroid_x(frames[0.0], SLIDER_BAND) == pytest.approx(rest - 100, abs=4)
    assert bright_centroid_x(frames[0.5], SLIDER_BAND) == pytest.approx(rest - 50, abs=4)
    assert bright_centroid_x(frames[1.5], SLIDER_BAND) == pytest.approx(rest, abs=2)
    assert bright_centroid_x(frames[3.0], SLIDER_BAND) == pytest.approx(rest, abs=2)


def test_a_fade_in_starts_dark_and_brightens_to_full(showcase: Rendered) -> None:
    frames = frames_at(showcase.video, [0.0, 0.5, 1.2])
    start, middle, done = (luma(frames[t], FADER_BOX) for t in (0.0, 0.5, 1.2))
    assert start < middle < done
    assert start == pytest.approx(luma(frames[0.0], GAP_PATCH), abs=10)  # only the background
    assert done > 245  # opaque white


def test_captions_are_absent_before_the_first_word_and_present_while_words_are_spoken(
    showcase: Rendered,
) -> None:
    frames = frames_at(showcase.video, [0.2, 0.45, 0.7, 1.5])
    text = {t: count_color(f, CAPTION_BOX, WHITE) + count_color(f, CAPTION_BOX, MAGENTA)
            for t, f in frames.items()}  # fmt: skip
    assert text[0.2] == text[0.45] == 0
    assert text[0.7] > 100
    assert text[1.5] > 100


def test_the_highlight_colour_follows_the_spoken_word(showcase: Rendered) -> None:
    """While "Hello" is spoken it is magenta (left half), then "world" is (right half)."""
    frames = frames_at(showcase.video, [0.7, 1.5])
    left = (CAPTION_BOX[0], CAPTION_BOX[1], W // 2, CAPTION_BOX[3])
    right = (W // 2, CAPTION_BOX[1], W, CAPTION_BOX[3])
    hello, world = frames[0.7], frames[1.5]
    assert count_color(hello, left, MAGENTA, 70) > 50
    assert count_color(hello, right, MAGENTA, 70) < 5
    assert count_color(world, right, MAGENTA, 70) > 50
    assert count_color(world, left, MAGENTA, 70) < 5


def test_a_narration_and_music_mix_is_normalised_to_minus_14_lufs(showcase: Rendered) -> None:
    assert measure_loudness(showcase.video).integrated_lufs == pytest.approx(-14, abs=1)


def test_a_mix_whose_peaks_would_clip_is_limited_below_the_true_peak_target(
    media: Path, tmp_path: Path
) -> None:
    """Sparse full-scale clicks: a plain gain to -14 LUFS would push them far over -1.5 dBTP."""
    signal = np.zeros(3 * SAMPLE_RATE)
    signal[:: SAMPLE_RATE // 4] = 0.99
    write_wav(media / "clicks.wav", signal)
    template = {
        "width": W, "height": H, "frame_rate": FPS, "duration": 3,
        "elements": [{"type": "audio", "source": "clicks.wav"}],
    }  # fmt: skip
    video = render(template, tmp_path, "clicks", media_dir=media).video
    assert measure_loudness(video).true_peak_dbfs <= -1.0


def test_a_limited_mix_still_reaches_minus_14_lufs(media: Path, tmp_path: Path) -> None:
    """A quiet tone under dense full-scale bursts: the limiter that holds the bursts under the
    ceiling also pumps the tone down, 8 LU short of the target after a plain gain."""
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    bursts = np.where(np.arange(len(t)) % (SAMPLE_RATE // 8) < 48, 0.9, 0.0)
    write_wav(media / "bursts.wav", 0.03 * np.sin(2 * np.pi * 440 * t) + bursts)
    template = {
        "width": W, "height": H, "frame_rate": FPS, "duration": 3,
        "elements": [{"type": "audio", "source": "bursts.wav"}],
    }  # fmt: skip
    loudness = measure_loudness(render(template, tmp_path, "bursts", media_dir=media).video)
    assert loudness.integrated_lufs == pytest.approx(-14, abs=1)
    assert loudness.true_peak_dbfs <= -0.5


@pytest.mark.parametrize(
    ("integrated", "peak", "expected"),
    [
        (-20.0, -9.0, "volume=6.000dB"),
        (-20.0, -3.0, "volume=6.000dB,alimiter=limit=0.7943:"),
        (-70.0, float("-inf"), None),
    ],
)
def test_the_loudness_correction_is_a_plain_gain_unless_peaks_would_pass_the_target(
    integrated: float, peak: float, expected: str | None
) -> None:
    measured = LoudnessStats(integrated_lufs=integrated, loudness_range_lu=2, true_peak_dbfs=peak)
    correction = loudness_correction(measured)
    found = correction.filter if correction else None
    assert found == expected or (expected and found and found.startswith(expected))


def test_music_ducks_under_the_voice_while_it_speaks(showcase_audio: np.ndarray) -> None:
    """Music band energy with the voice on (0.8-1.8 s) against after it (2.4-3.0 s)."""
    speaking = band_rms(showcase_audio, 0.8, 1.8, *MUSIC_BAND)
    after = band_rms(showcase_audio, 2.4, 3.0, *MUSIC_BAND)
    assert band_rms(showcase_audio, 0.8, 1.8, 2500, 3500) > 10 * band_rms(
        showcase_audio, 2.4, 3.0, 2500, 3500
    )  # the voice is there
    assert after > 3 * speaking


def test_audio_fades_in_at_the_start_and_out_over_the_last_second(
    showcase_audio: np.ndarray,
) -> None:
    steady = band_rms(showcase_audio, 2.4, 3.0, *MUSIC_BAND)
    assert band_rms(showcase_audio, 0.0, 0.1, *MUSIC_BAND) < steady / 3
    assert band_rms(showcase_audio, SHOWCASE_SECONDS - 0.3, SHOWCASE_SECONDS, *MUSIC_BAND) < (
        steady / 3
    )


def test_the_snapshot_is_the_frame_at_snapshot_time(showcase: Rendered) -> None:
    assert showcase.snapshot is not None
    with Image.open(showcase.snapshot) as image:
        assert image.format == "PNG"
        snapshot = np.asarray(image.convert("RGB")).astype(np.int32)
    assert snapshot.shape == (H, W, 3)
    assert np.abs(snapshot - frame_at(showcase.video, 0.7)).mean() < 1.5
    assert count_color(snapshot, CAPTION_BOX, MAGENTA, 70) > 50  # "Hello" highlighted


def test_progress_rises_to_one(showcase: Rendered) -> None:
    assert showcase.progress
    assert showcase.progress == sorted(set(showcase.progress))
    assert 0 < showcase.progress[0]
    assert showcase.progress[-1] == 1.0


def test_the_same_template_and_media_render_to_identical_bytes(
    showcase: Rendered, media: Path
) -> None:
    """Rendered again while two busy processes take the CPU: x264's frame threads then see
    frames arrive with other timings, which must not change a byte."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        again = render(SHOWCASE, showcase.video.parent, "again", media_dir=media, snapshot=True)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert again.video.read_bytes() == showcase.video.read_bytes()
    assert again.snapshot is not None
    assert showcase.snapshot is not None
    assert again.snapshot.read_bytes() == showcase.snapshot.read_bytes()


def test_a_ducked_mix_is_byte_identical_run_to_run(media: Path, tmp_path: Path) -> None:
    """The race shows in some runs only, so the audio pass (~0.2 s) is run ten times."""
    music = {"name": "Music", "type": "audio", "source": "music.wav", "loop": True,
             "duck_under": "Voice"}  # fmt: skip
    script = parse_render_script(plus(music))
    placed, duration = resolve_timeline(script, MediaResolver(media, tmp_path / "downloads"))
    digests = set()
    for n in range(10):
        workdir = tmp_path / f"mix{n}"
        workdir.mkdir()
        wav = mix_audio(placed, duration, workdir, timeout_s=60).wav
        digests.add(hashlib.sha256(wav.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_snapshot_time_at_the_end_still_writes_the_last_frame(media: Path, tmp_path: Path) -> None:
    template = {**SHOWCASE, "duration": 1, "snapshot_time": 1.0}
    rendered = render(template, tmp_path, "end", media_dir=media, snapshot=True)
    assert rendered.snapshot is not None
    assert rendered.snapshot.is_file(), "render succeeded but wrote no snapshot"


# ---- sequences: media durations, transitions, compositions, video sources --------------


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


# ---- layers: z order, opacity, fitted video with sound, text fitting, fade-out ---------

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
         "fill_color": "#ffff00"},
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


# ---- geometry and nested time -----------------------------------------------------------


@pytest.fixture(scope="module")
def geometry(media: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    template = {
        "width": W, "height": H, "frame_rate": FPS, "duration": 2,
        "elements": [
            {"type": "composition", "time": 0.5, "duration": 1.0, "width": 100, "height": 100,
             "elements": [{"type": "shape", "time": 0.5, "duration": 0.3,
                           "fill_color": "#ff0000"}]},
            {"type": "shape", "x": 0, "y": 0, "x_anchor": "0%", "y_anchor": "0%",
             "width": 50, "height": 50, "fill_color": "#00ff00"},
            {"type": "text", "text": "L", "x": "50%", "y": "85%", "width": 200, "height": 60,
             "x_alignment": "0%", "y_alignment": "100%", "font_size": 30,
             "fill_color": "#ffffff", "background_color": "#0000ff"},
        ],
    }  # fmt: skip
    return render(template, tmp_path_factory.mktemp("geometry"), "geometry", media_dir=media)


def test_a_childs_time_counts_from_its_compositions_start(geometry: Rendered) -> None:
    """Composition at 0.5 s, child at 0.5 s into it for 0.3 s: on screen 1.0-1.3 s."""
    centre: Box = (125, 230, 145, 250)
    frames = frames_at(geometry.video, [0.9, 1.1, 1.25, 1.4])
    shown = {t: mean_color(frame, centre) == pytest.approx((255, 0, 0), abs=12)
             for t, frame in frames.items()}  # fmt: skip
    assert shown == {0.9: False, 1.1: True, 1.25: True, 1.4: False}


def test_an_anchor_of_0_percent_places_the_elements_corner_at_x_y(geometry: Rendered) -> None:
    frame = frame_at(geometry.video, 1.0)
    assert mean_color(frame, (0, 0, 50, 50)) == pytest.approx((0, 255, 0), abs=12)
    assert mean_color(frame, (50, 50, 60, 60)) == pytest.approx((0, 0, 0), abs=12)


def test_text_alignment_of_0_and_100_percent_sets_it_left_and_bottom(
    geometry: Rendered,
) -> None:
    box: Box = (35, 378, 235, 438)  # 200x60 at (50%, 85%)
    ink = crop(frame_at(geometry.video, 1.0), box).mean(axis=2) > 200
    rows, columns = np.nonzero(ink)
    assert columns.max() < 30  # the "L" hugs the left edge
    assert rows.max() > 45  # and sits at the bottom


# ---- Korean ----------------------------------------------------------------------------


def test_hangul_text_and_captions_render_as_distinct_glyphs_not_tofu(
    tmp_path: Path,
) -> None:
    """With a font lacking Hangul every syllable is the same box: different words would match."""
    write_voice(tmp_path / "ko.wav", 1.0, [("바다", 0.0, 0.5), ("하늘", 0.5, 1.0)])
    text = {"type": "text", "x": "50%", "width": "80%", "height": "12%", "font_size": 40,
            "fill_color": "#ffffff"}  # fmt: skip
    template = {
        "width": W, "height": H, "frame_rate": FPS, "duration": 1, "fill_color": "#202020",
        "elements": [
            {**text, "text": "가나다라", "y": "20%"},
            {**text, "text": "마바사아", "y": "45%"},
            {"name": "Ko", "type": "audio", "source": "ko.wav"},
            {**text, "y": "75%", "transcript_source": "Ko", "transcript_split": "word"},
        ],
    }  # fmt: skip
    video = render(template, tmp_path, "hangul").video
    frames = frames_at(video, [0.25, 0.75])
    first, second = frames[0.25][67:125, 27:243], frames[0.25][187:245, 27:243]
    sea, sky = frames[0.25][331:389, 27:243], frames[0.75][331:389, 27:243]
    for text in (first, second, sea, sky):
        assert (text.mean(axis=2) > 200).sum() > 150  # glyph pixels are there
    assert np.abs(first.astype(int) - second.astype(int)).mean() > 8
    assert np.abs(sea.astype(int) - sky.astype(int)).mean() > 8


# ---- caption events (ASS), without rendering --------------------------------------------


def caption_ass(
    media: Path, tmp_path: Path, voice: dict[str, Any] | None = None, **captions: Any
) -> str:
    """The ASS captions of voice.wav ("Hello" 0.5-1 s, "world" 1-2 s) played from 0.25 s."""
    template = {
        "width": W, "height": H, "duration": 3,
        "elements": [
            {"name": "Voice", "type": "audio", "source": "voice.wav", "time": 0.25,
             **(voice or {})},
            {"type": "text", "transcript_source": "Voice", **captions},
        ],
    }  # fmt: skip
    resolver = MediaResolver(media, tmp_path / "downloads")
    placed, _ = resolve_timeline(parse_render_script(template), resolver)
    return build_captions_ass(caption_tracks(placed, (W, H)), (W, H))


def dialogues(ass: str) -> list[str]:
    return [line for line in ass.splitlines() if line.startswith("Dialogue:")]


def seconds(timestamp: str) -> float:
    hours, minutes, rest = timestamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def word_events(ass: str) -> list[tuple[float, float, str]]:
    """(start, end, text) of each Dialogue line of word-split captions without effects."""
    events = []
    for line in dialogues(ass):
        fields = line.removeprefix("Dialogue: ").split(",", 9)
        events.append((seconds(fields[1]), seconds(fields[2]), fields[9].rsplit("}", 1)[-1]))
    return events


def test_word_split_captions_show_one_word_at_a_time_offset_by_the_audio_time(
    media: Path, tmp_path: Path
) -> None:
    events = dialogues(caption_ass(media, tmp_path, transcript_split="word"))
    assert len(events) == 2
    assert events[0].startswith("Dialogue: 0,0:00:00.75,0:00:01.25,")  # 0.5 s + 0.25 s
    assert events[0].endswith("Hello")
    assert events[1].endswith("world")


def test_trim_start_moves_captions_with_the_audio(media: Path, tmp_path: Path) -> None:
    """Trimming 0.5 s off the start: "Hello" (0.5 s into the file) is heard at 0.25 s."""
    events = word_events(caption_ass(media, tmp_path, {"trim_start": 0.5}, transcript_split="word"))
    assert [(start, text) for start, _, text in events] == [(0.25, "Hello"), (0.75, "world")]


@pytest.mark.parametrize(
    ("voice", "heard", "voice_end"),
    [
        pytest.param({"trim_start": 1.2}, ["world"], 2.05, id="trim-start-past-a-word"),
        pytest.param({"duration": 0.8}, ["Hello"], 1.05, id="duration-cuts-a-word"),
        pytest.param({"trim_start": 0.5, "trim_duration": 0.4}, ["Hello"], 0.65,
                     id="trim-duration-cuts-a-word"),
    ],
)  # fmt: skip
def test_captions_show_only_words_of_the_audio_that_plays(
    voice: dict[str, Any], heard: list[str], voice_end: float, media: Path, tmp_path: Path
) -> None:
    events = word_events(caption_ass(media, tmp_path, voice, transcript_split="word"))
    assert [text for _, _, text in events] == heard
    assert min(start for start, _, _ in events) >= 0.25  # not before the voice starts
    assert max(start for start, _, _ in events) < voice_end


def test_line_split_groups_words_up_to_the_maximum_length(media: Path, tmp_path: Path) -> None:
    together = dialogues(caption_ass(media, tmp_path, transcript_split="line"))
    apart = dialogues(
        caption_ass(media, tmp_path, transcript_split="line", transcript_maximum_length=8)
    )
    assert len(together) == 1
    assert together[0].endswith("Hello world")
    assert len(apart) == 2


def test_highlight_colours_each_word_in_turn(media: Path, tmp_path: Path) -> None:
    events = dialogues(
        caption_ass(media, tmp_path, transcript_effect="highlight", transcript_color="#ff8000")
    )
    assert len(events) == 2
    assert r"{\1c&H0080FF&}Hello{\r} world" in events[0]
    assert r"Hello {\1c&H0080FF&}world{\r}" in events[1]


def test_karaoke_sweeps_the_colour_through_each_word_for_its_duration(
    media: Path, tmp_path: Path
) -> None:
    events = dialogues(caption_ass(media, tmp_path, transcript_effect="karaoke"))
    assert len(events) == 1
    assert r"{\kf50}Hello {\kf100}world" in events[0]


def test_fade_fades_each_word_in_as_it_starts(media: Path, tmp_path: Path) -> None:
    (event,) = dialogues(caption_ass(media, tmp_path, transcript_effect="fade"))
    assert r"\t(0,150,\alpha&H00&)}Hello" in event
    assert r"\t(500,650,\alpha&H00&)}world" in event


# ---- templates the engine refuses before spending CPU -----------------------------------

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


# ---- http(s) sources through the SSRF-guarded fetcher -----------------------------------


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


# ---- the command line ------------------------------------------------------------------

AUTOCLIP = Path(sys.executable).with_name("autoclip")


def autoclip_render(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AUTOCLIP), "render", *map(str, args)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_cli_renders_a_template_with_modifications_and_prints_a_json_summary(
    media: Path, tmp_path: Path
) -> None:
    template = tmp_path / "templates" / "clip.json"
    template.parent.mkdir()
    template.write_text(json.dumps(BASE), encoding="utf-8")
    modifications = tmp_path / "mods.json"
    modifications.write_text(json.dumps({"Bg": "blue.png"}), encoding="utf-8")
    out, snapshot = tmp_path / "out" / "clip.mp4", tmp_path / "out" / "clip.jpg"
    run = autoclip_render(
        template, "--modifications", modifications, "--media-dir", media, "-o", out,
        "--snapshot", snapshot,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["output"] == str(out)
    assert summary["duration_s"] == 3.0  # the voice's length
    assert summary["size_bytes"] == out.stat().st_size
    assert summary["render_s"] > 0
    frames = frames_at(out, [1.0, 2.5])
    assert mean_color(frames[1.0], (0, 0, 60, 60)) == pytest.approx(BLUE, abs=12)  # modified
    with Image.open(snapshot) as image:
        assert (image.format, image.size) == ("JPEG", (W, H))
        preview = np.asarray(image.convert("RGB")).astype(np.int32)
    # Without snapshot_time the preview is the frame a third of the way in (1 s of 3 s).
    assert np.abs(preview - frames[1.0]).mean() < 3
    assert np.abs(preview - frames[2.5]).mean() > 30


def test_cli_reads_relative_sources_next_to_the_template_by_default(
    media: Path, tmp_path: Path
) -> None:
    template = media / "cli-default.json"
    template.write_text(json.dumps(BASE), encoding="utf-8")
    run = autoclip_render(template, "-o", tmp_path / "out.mp4")
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize(
    ("template", "modifications", "expected"),
    [
        pytest.param(
            plus({"type": "text", "text": "x", "blur": 3}), None,
            "invalid template: elements[3].blur: not supported", id="unsupported-property",
        ),
        pytest.param(
            BASE, {"Nope": "x"},
            "invalid template: modifications['Nope']: no element named 'Nope'",
            id="modification-of-a-missing-element",
        ),
        pytest.param(
            changed(0, source="nowhere.png"), None,
            "invalid template: elements[0].source: media file not found", id="missing-media",
        ),
    ],
)  # fmt: skip
def test_cli_exits_2_naming_the_json_path_of_a_bad_template(
    template: dict[str, Any],
    modifications: dict[str, Any] | None,
    expected: str,
    media: Path,
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    extra: list[str | Path] = []
    if modifications is not None:
        (tmp_path / "mods.json").write_text(json.dumps(modifications), encoding="utf-8")
        extra = ["--modifications", tmp_path / "mods.json"]
    out = tmp_path / "out.mp4"
    run = autoclip_render(path, *extra, "--media-dir", media, "-o", out)
    assert run.returncode == 2
    assert expected in run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists()


# ---- the built-in templates, each rendered once at full size ----------------------------

BUILTIN_SIZES = {"short": (1080, 1920), "long": (1920, 1080), "square": (1080, 1080)}
TITLE_BG, SCENE_1, SCENE_2, END_BG = (0, 110, 110), (230, 120, 20), (40, 160, 60), (110, 40, 160)
CAPTION_YELLOW = (255, 212, 0)  # the built-ins' transcript_color #ffd400
NARRATION_AT = 0.4


@dataclass
class Narration:
    folder: Path
    duration: float
    words: list[Word]


@pytest.fixture(scope="module")
def narration(tmp_path_factory: pytest.TempPathFactory) -> Narration:
    """~2.7 s of eSpeak speech with its word-timing sidecar, images and the music bed."""
    folder = tmp_path_factory.mktemp("builtin-media")
    wav = folder / "narration.wav"
    clip = EspeakTTS().synthesize(["Solar power is cheap.", "Batteries last."], "en", wav)
    words = words_from_cues(clip.cues)
    write_transcript(wav, words)
    write_music_bed(folder / "music.wav")
    for name, color in [("title", TITLE_BG), ("scene1", SCENE_1), ("scene2", SCENE_2),
                        ("end", END_BG)]:  # fmt: skip
        write_image(folder / f"{name}.png", color, (1280, 1280))
    return Narration(folder, clip.duration, words)


@dataclass
class BuiltinRender:
    name: str
    size: tuple[int, int]
    template: dict[str, Any]
    rendered: Rendered
    duration: float
    words: list[Word]
    """Word times in the video (the narration starts at NARRATION_AT)."""

    def box(self, element: str, margin: int = 0) -> Box:
        for candidate in _elements(self.template["elements"]):
            if candidate.get("name") == element:
                return percent_box(candidate, self.size, margin)
        raise KeyError(element)


def _elements(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for element in elements:
        out.append(element)
        out.extend(_elements(element.get("elements", [])))
    return out


@pytest.fixture(scope="module")
def builtin_renders() -> dict[str, BuiltinRender]:
    """Each built-in's one render, whatever order its tests run in."""
    return {}


@pytest.fixture(params=BUILTIN_TEMPLATES)
def builtin(
    request: pytest.FixtureRequest,
    builtin_renders: dict[str, BuiltinRender],
    narration: Narration,
    tmp_path_factory: pytest.TempPathFactory,
) -> BuiltinRender:
    name: str = request.param
    if name not in builtin_renders:
        builtin_renders[name] = render_builtin(name, narration, tmp_path_factory.mktemp(name))
    return builtin_renders[name]


def render_builtin(name: str, narration: Narration, folder: Path) -> BuiltinRender:
    """The built-in template filled as the pipeline fills it: title, two scenes, end card."""
    total = NARRATION_AT + narration.duration
    template = apply_modifications(
        repeat_element(load_template(name), "Scene", 2),
        {
            "Title-Card.duration": 1.0,
            "Title-Background": "title.png",
            "Title": "Solar power",
            "Scene-1.source": "scene1.png", "Scene-1.time": 1.0, "Scene-1.duration": 0.6,
            "Scene-2.source": "scene2.png", "Scene-2.time": 1.6, "Scene-2.duration": 0.6,
            "End-Card.time": 2.2,
            "End-Card.duration": round(total - 2.2, 3),
            "End-Background": "end.png",
            "End-Text": "Follow",
            "Narration": "narration.wav",
            "Narration.time": NARRATION_AT,
            "Music": "music.wav",
        },
    )  # fmt: skip
    rendered = render(template, folder, name, media_dir=narration.folder)
    shifted = [
        w.model_copy(update={"start": w.start + NARRATION_AT, "end": w.end + NARRATION_AT})
        for w in narration.words
    ]
    return BuiltinRender(name, BUILTIN_SIZES[name], template, rendered, total, shifted)


def test_a_builtin_template_renders_at_its_size_rate_and_the_narrations_length(
    builtin: BuiltinRender,
) -> None:
    media = probe(builtin.rendered.video)
    assert media.video is not None
    assert media.audio is not None
    assert (media.video.width, media.video.height) == builtin.size
    assert media.video.fps == 30
    assert (media.video.codec, media.video.pix_fmt) == ("h264", "yuv420p")
    assert (media.audio.codec, media.audio.sample_rate, media.audio.channels) == ("aac", 48_000, 2)
    assert media.video.frames == round(builtin.duration * 30)  # the video: within a frame
    # The container may run on by the last AAC frame (1024 samples, 21 ms) past the video.
    assert media.duration == pytest.approx(builtin.duration, abs=1 / 30 + 1024 / 48_000)


def test_a_builtin_template_shows_each_scene_at_its_time(builtin: BuiltinRender) -> None:
    w, h = builtin.size
    corner: Box = (0, 0, w // 8, h // 12)
    frames = frames_at(builtin.rendered.video, [1.45, 2.1])
    assert mean_color(frames[1.45], corner) == pytest.approx(SCENE_1, abs=12)
    assert mean_color(frames[2.1], corner) == pytest.approx(SCENE_2, abs=12)


def test_a_builtin_template_shows_its_title_card_then_its_end_card(
    builtin: BuiltinRender,
) -> None:
    w, h = builtin.size
    corner: Box = (0, 0, w // 8, h // 12)
    frames = frames_at(builtin.rendered.video, [0.8, 2.9])
    assert mean_color(frames[0.8], corner) == pytest.approx(TITLE_BG, abs=12)
    assert count_color(frames[0.8], builtin.box("Title", h // 40), WHITE, 40) > 2000
    assert mean_color(frames[2.9], corner) == pytest.approx(END_BG, abs=12)
    assert count_color(frames[2.9], builtin.box("End-Text", h // 40), WHITE, 40) > 1000


def test_a_builtin_template_captions_the_spoken_word_in_the_highlight_colour(
    builtin: BuiltinRender,
) -> None:
    box = builtin.box("Captions", builtin.size[1] // 40)
    first = builtin.words[0].start
    spoken = [(w.start + w.end) / 2 for w in builtin.words[:3]]
    frames = frames_at(builtin.rendered.video, [first - 0.2, *spoken])
    before = frames[first - 0.2]
    assert count_color(before, box, WHITE, 40) + count_color(before, box, CAPTION_YELLOW, 40) == 0
    for t in spoken:
        assert count_color(frames[t], box, WHITE, 40) > 500, t
        assert count_color(frames[t], box, CAPTION_YELLOW, 40) > 200, t


def test_a_builtin_templates_mix_is_at_minus_14_lufs(builtin: BuiltinRender) -> None:
    assert measure_loudness(builtin.rendered.video).integrated_lufs == pytest.approx(-14, abs=1)


def test_a_builtin_templates_render_reports_rising_progress_to_one(
    builtin: BuiltinRender,
) -> None:
    progress = builtin.rendered.progress
    assert progress == sorted(set(progress))
    assert progress[-1] == 1.0
