"""The built-in templates, each filled as the pipeline fills it and rendered once at full
size with ~3 s of real narration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from autoclip_core.render.captions import Word, words_from_cues, write_transcript
from autoclip_core.render.music import write_music_bed
from autoclip_core.render.probe import measure_loudness, probe
from autoclip_core.render.templates import (
    BUILTIN_TEMPLATES,
    apply_modifications,
    load_template,
    repeat_element,
)
from resources.tts.espeak import EspeakTTS
from tests.core.render.helpers import (
    WHITE,
    Box,
    Rendered,
    count_color,
    frames_at,
    mean_color,
    percent_box,
    render,
    write_image,
)

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
