from __future__ import annotations

import pytest
from PIL import Image, ImageFont

from autoclip_core.render.ass_subtitles import ass_escape, ass_script, ass_timestamp, cell_ratio
from autoclip_core.render.ffmpeg_binary import run_ffmpeg
from autoclip_core.render.fonts import font_path, fonts_dir


def test_escaping_keeps_braces_and_backslashes_literal() -> None:
    assert ass_escape("a {b} c") == r"a \{b\} c"
    escaped = ass_escape("C:\\New\\h")
    assert "\\N" not in escaped
    assert "\\h" not in escaped
    assert escaped.replace("\u2060", "") == "C:\\New\\h"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0:00:00.00"), (1.234, "0:00:01.23"), (61.5, "0:01:01.50"), (3725.999, "1:02:06.00")],
)
def test_timestamps_are_hours_minutes_seconds_and_centiseconds(
    seconds: float, expected: str
) -> None:
    assert ass_timestamp(seconds) == expected


def test_script_declares_the_video_size_and_no_libass_wrapping() -> None:
    script = ass_script(720, 1280, styles=[], events=[])
    assert "PlayResX: 720" in script
    assert "PlayResY: 1280" in script
    assert "WrapStyle: 2" in script


def test_pillow_measurement_matches_what_libass_draws(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The calibration: a line's measured width is the width libass renders it at."""
    width, height = 1080, 600
    text = "Hangul 한국어 자막 Width"
    em = 0.065 * width
    font_file = font_path(bold=True)
    style = (
        f"Style: Default,NanumGothic,{em * cell_ratio(font_file):.1f},&H00FFFFFF,&H00FFFFFF,"
        "&H00101010,&H80000000,-1,0,0,0,100,100,0,0,1,0,0,5,0,0,0,1"
    )
    event = f"Dialogue: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,{{\\pos(540,300)}}{text}"
    (tmp_path / "c.ass").write_text(ass_script(width, height, [style], [event]), "utf-8")
    (tmp_path / "fonts").symlink_to(fonts_dir())
    run_ffmpeg(
        ["-f", "lavfi", "-i", f"color=black:s={width}x{height}:d=0.1",
         "-vf", "ass=filename=c.ass:fontsdir=fonts", "-frames:v", "1", "-update", "1",
         "-y", "frame.png"],
        cwd=tmp_path,
    )  # fmt: skip
    with Image.open(tmp_path / "frame.png") as frame:
        fill = frame.convert("L").point(lambda v: 255 if v > 200 else 0)
    left, _, right, _ = fill.getbbox() or (0, 0, 0, 0)
    left_ink, _, right_ink, _ = ImageFont.truetype(str(font_file), size=em).getbbox(text)
    assert right - left == pytest.approx(right_ink - left_ink, rel=0.03)
