"""ASS subtitle primitives for captions burned in by ffmpeg's ``ass`` filter (libass).

We wrap lines ourselves (``WrapStyle: 2`` turns libass wrapping off), measuring with
Pillow and the same TTF that libass renders, so nothing overflows and Korean breaks at
spaces.

Font size calibration: libass scales a font so that ``Fontsize`` is the height of the
font's line cell (ascent + descent, 1.15 em for NanumGothic) while Pillow's ``size`` is
the em. The glyphs Pillow draws at ``size = Fontsize / cell_ratio`` match libass's to
within a pixel or two.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PIL import ImageFont

WORD_JOINER = "\u2060"
STYLE_FORMAT = (
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
    "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
    "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding"
)
EVENT_FORMAT = "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"


def cell_ratio(font_file: Path) -> float:
    """Line-cell height (ascent + descent) per em: how much smaller libass draws a size."""
    em = 1000
    ascent, descent = ImageFont.truetype(str(font_file), size=em).getmetrics()
    return (ascent + descent) / em


def ass_escape(text: str) -> str:
    """Text that libass draws literally: no override blocks, escapes or stray line breaks.

    A backslash gets an invisible word joiner after it, so ``C:\\New`` is not read as a
    line break; braces become libass's ``\\{`` / ``\\}``.
    """
    escaped = text.replace("\\", "\\" + WORD_JOINER)
    return escaped.replace("{", "\\{").replace("}", "\\}")


def ass_centiseconds(seconds: float) -> int:
    """A time as ASS stores it: whole centiseconds, rounded (libass reads them as 10 ms)."""
    return max(round(seconds * 100), 0)


def ass_timestamp(seconds: float) -> str:
    """``H:MM:SS.cc``, rounded to the centisecond."""
    centis = ass_centiseconds(seconds)
    hours, centis = divmod(centis, 360_000)
    minutes, centis = divmod(centis, 6_000)
    secs, centis = divmod(centis, 100)
    return f"{hours}:{minutes:02d}:{secs:02d}.{centis:02d}"


def ass_script(width: int, height: int, styles: Iterable[str], events: Iterable[str]) -> str:
    """A complete ASS script for a ``width`` by ``height`` video, libass wrapping off."""
    if width <= 0 or height <= 0:
        raise ValueError(f"video size must be positive, got {width}x{height}")
    lines = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 2",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: None",
        "",
        "[V4+ Styles]",
        STYLE_FORMAT,
        *styles,
        "",
        "[Events]",
        EVENT_FORMAT,
        *events,
    ]
    return "\n".join(lines) + "\n"
