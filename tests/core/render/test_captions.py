"""Caption events (ASS) from a transcript, without rendering: timing, splits, effects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from autoclip_core.render.captions import build_captions_ass
from autoclip_core.render.engine import caption_tracks
from autoclip_core.render.media_sources import MediaResolver
from autoclip_core.render.renderscript import parse_render_script
from autoclip_core.render.timeline import resolve_timeline
from tests.core.render.helpers import H, W


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


def test_a_caption_background_is_one_shape_drawn_behind_each_cue(
    media: Path, tmp_path: Path
) -> None:
    """libass's own boxes (``BorderStyle=3``) are drawn per run of words, and the highlight
    splits a line into runs: translucent boxes overlapped into darker stripes. The background
    is a drawing of its own on the layer below, timed like the words it is behind."""
    ass = caption_ass(
        media, tmp_path, transcript_effect="highlight", font_size=20,
        background_color="rgba(0,0,0,0.6)", background_border_radius="50%",
    )  # fmt: skip
    events = dialogues(ass)
    assert len(events) == 4  # a background and the words, for each highlighted word
    for background, words in zip(events[::2], events[1::2], strict=True):
        assert background.startswith("Dialogue: 0,")
        assert words.startswith("Dialogue: 1,")
        assert background.split(",")[1:3] == words.split(",")[1:3]  # the same times
        assert r"\p1}m " in background
        assert " b " in background  # rounded corners
    assert ",1,0.0,0,5," in next(line for line in ass.splitlines() if line.startswith("Style:"))
