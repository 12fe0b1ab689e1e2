from __future__ import annotations

from itertools import pairwise

import pytest
from PIL import Image

from autoclip_core.fonts import font_path, fonts_dir
from autoclip_core.media.captions import (
    ass_escape,
    ass_timestamp,
    build_ass,
    caption_events,
    caption_style,
    find_font_file,
    measuring_font,
    write_ass,
)
from autoclip_core.media.ffmpeg import run_ffmpeg
from autoclip_core.schemas import CaptionCue

LONG_ENGLISH = (
    "Scientists have found a surprisingly cheap way to store renewable energy for weeks "
    "at a time, and the first pilot plants are already being built across the country"
)
LONG_KOREAN = (
    "연구진은 재생 에너지를 몇 주 동안 저렴하게 저장하는 새로운 방법을 찾아냈고 "
    "첫 시범 발전소가 이미 전국에 지어지고 있습니다"
)


def _dialogues(script: str) -> list[str]:
    return [line for line in script.splitlines() if line.startswith("Dialogue:")]


def _dialogue_text(line: str) -> str:
    return line.split(",", 9)[9]


def test_escaping_keeps_braces_and_backslashes_literal() -> None:
    assert ass_escape("a {b} c") == r"a \{b\} c"
    escaped = ass_escape("C:\\New\\h")
    assert "\\N" not in escaped
    assert "\\h" not in escaped
    assert escaped.replace("\u2060", "") == "C:\\New\\h"


def test_line_breaks_in_a_cue_become_ass_line_breaks() -> None:
    script = build_ass([CaptionCue(text="first line\nsecond line", start=0, end=2)], 1080, 1920)
    [dialogue] = _dialogues(script)
    assert _dialogue_text(dialogue) == r"first line\Nsecond line"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0:00:00.00"), (1.234, "0:00:01.23"), (61.5, "0:01:01.50"), (3725.999, "1:02:06.00")],
)
def test_timestamps_are_hours_minutes_seconds_and_centiseconds(
    seconds: float, expected: str
) -> None:
    assert ass_timestamp(seconds) == expected


def test_dialogue_times_come_from_the_cue() -> None:
    script = build_ass([CaptionCue(text="hello", start=1.5, end=2.25)], 1080, 1920)
    [dialogue] = _dialogues(script)
    assert dialogue.startswith("Dialogue: 0,0:00:01.50,0:00:02.25,Default,")


def test_script_declares_the_video_size_and_no_libass_wrapping() -> None:
    script = build_ass([], 720, 1280)
    assert "PlayResX: 720" in script
    assert "PlayResY: 1280" in script
    assert "WrapStyle: 2" in script


@pytest.mark.parametrize("text", [LONG_ENGLISH, LONG_KOREAN])
def test_wrapped_lines_fit_the_caption_width_and_cues_keep_two_lines(text: str) -> None:
    style = caption_style(1080, 1920, font_path(bold=True))
    font = measuring_font(style, font_path(bold=True))
    events = caption_events([CaptionCue(text=text, start=2, end=10)], font, style.max_line_width)
    assert len(events) > 1
    for event in events:
        assert 1 <= len(event.lines) <= 2
        for line in event.lines:
            assert font.getlength(line) <= style.max_line_width


def test_a_long_cue_is_split_into_back_to_back_events_spanning_it() -> None:
    style = caption_style(1080, 1920, font_path(bold=True))
    font = measuring_font(style, font_path(bold=True))
    events = caption_events(
        [CaptionCue(text=LONG_ENGLISH, start=2, end=10)], font, style.max_line_width
    )
    assert events[0].start == 2
    assert events[-1].end == 10
    for earlier, later in pairwise(events):
        assert earlier.end == pytest.approx(later.start)
        assert earlier.start < earlier.end
    assert " ".join(line for e in events for line in e.lines) == LONG_ENGLISH


def test_korean_wraps_between_words() -> None:
    style = caption_style(720, 1280, font_path(bold=True))
    font = measuring_font(style, font_path(bold=True))
    events = caption_events([CaptionCue(text=LONG_KOREAN, start=0, end=8)], font, 400)
    lines = [line for event in events for line in event.lines]
    assert len(lines) > 2
    assert [word for line in lines for word in line.split()] == LONG_KOREAN.split()


def test_overlapping_cues_are_trimmed_and_empty_ones_dropped() -> None:
    cues = [
        CaptionCue(text="second", start=1.5, end=3),
        CaptionCue(text="first", start=0, end=2),
        CaptionCue(text="  ", start=3, end=4),
    ]
    style = caption_style(1080, 1920, font_path(bold=True))
    font = measuring_font(style, font_path(bold=True))
    events = caption_events(cues, font, style.max_line_width)
    assert [(e.lines, e.start, e.end) for e in events] == [
        (("first",), 0, 1.5),
        (("second",), 1.5, 3),
    ]


def test_portrait_captions_sit_above_the_platform_buttons() -> None:
    style = caption_style(1080, 1920, font_path(bold=True))
    assert style.margin_v >= 0.22 * 1920
    assert style.em_px == pytest.approx(0.065 * 1080, rel=0.02)
    landscape = caption_style(1920, 1080, font_path(bold=True))
    assert landscape.margin_v < 0.15 * 1080


def test_bold_nanumgothic_is_found_in_the_fonts_dir() -> None:
    assert find_font_file(fonts_dir(), "NanumGothic").name == "NanumGothicBold.ttf"
    with pytest.raises(FileNotFoundError, match="NoSuchFont"):
        find_font_file(fonts_dir(), "NoSuchFont")


def test_pillow_measurement_matches_what_libass_draws(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The calibration: a line's measured width is the width libass renders it at."""
    width, height = 1080, 600
    text = "Hangul 한국어 자막 Width"
    cue = CaptionCue(text=text, start=0, end=1)
    write_ass(tmp_path / "c.ass", [cue], width, height)
    (tmp_path / "fonts").symlink_to(fonts_dir())
    run_ffmpeg(
        ["-f", "lavfi", "-i", f"color=black:s={width}x{height}:d=0.1",
         "-vf", "ass=filename=c.ass:fontsdir=fonts", "-frames:v", "1", "-update", "1",
         "-y", "frame.png"],
        cwd=tmp_path,
    )  # fmt: skip
    with Image.open(tmp_path / "frame.png") as frame:
        # Only the white fill: the dark outline and shadow stay below this threshold.
        fill = frame.convert("L").point(lambda v: 255 if v > 200 else 0)
    left, _, right, _ = fill.getbbox() or (0, 0, 0, 0)
    style = caption_style(width, height, font_path(bold=True))
    font = measuring_font(style, font_path(bold=True))
    left_ink, _, right_ink, _ = font.getbbox(text)
    assert right - left == pytest.approx(right_ink - left_ink, rel=0.03)
