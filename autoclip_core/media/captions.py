"""Caption cues → an ASS subtitle file, burned in by ffmpeg's ``ass`` filter (libass).

We wrap lines ourselves (``WrapStyle: 2`` turns libass wrapping off), measuring with
Pillow and the same TTF that libass renders, so nothing overflows and Korean breaks at
spaces. A cue needing more than two lines is split in time into consecutive events.

Font size calibration: libass scales a font so that ``Fontsize`` is the height of the
font's line cell (ascent + descent, 1.15 em for NanumGothic) while Pillow's ``size`` is
the em. The glyphs Pillow draws at ``size = Fontsize / cell_ratio`` match libass's to
within a pixel or two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from PIL import ImageFont

from autoclip_core.fonts import FAMILY, font_path
from autoclip_core.schemas import CaptionCue
from autoclip_core.text_layout import Font, wrap_text

MAX_LINES = 2
FONT_SHARE_OF_SHORT_SIDE = 0.065
"""Glyph em size as a share of the frame's short side (the width, for 9:16)."""
OUTLINE_SHARE_OF_FONT = 0.1
SHADOW_SHARE_OF_FONT = 0.05
SIDE_MARGIN_SHARE = 0.07
PORTRAIT_BOTTOM_SAFE_SHARE = 0.25
"""Shorts/Reels/TikTok put buttons and the description over the bottom ~22% of 9:16."""
LANDSCAPE_BOTTOM_SHARE = 0.08
WORD_JOINER = "\u2060"


@dataclass(frozen=True)
class CaptionStyle:
    """Caption geometry for one video size, in video pixels."""

    width: int
    height: int
    font_size: int
    """ASS ``Fontsize`` (line-cell height)."""
    em_px: float
    """Glyph em size; the Pillow font size that measures like the rendered text."""
    outline_px: float
    shadow_px: float
    margin_h: int
    margin_v: int

    @property
    def max_line_width(self) -> float:
        """Room for a line's glyphs: the frame minus side margins and the outline."""
        return self.width - 2 * self.margin_h - 2 * self.outline_px


@dataclass(frozen=True)
class CaptionEvent:
    start: float
    end: float
    lines: tuple[str, ...]


def cell_ratio(font_file: Path) -> float:
    """Line-cell height (ascent + descent) per em: how much smaller libass draws a size."""
    em = 1000
    ascent, descent = ImageFont.truetype(str(font_file), size=em).getmetrics()
    return (ascent + descent) / em


def caption_style(width: int, height: int, font_file: Path) -> CaptionStyle:
    em_px = FONT_SHARE_OF_SHORT_SIDE * min(width, height)
    font_size = round(em_px * cell_ratio(font_file))
    em_px = font_size / cell_ratio(font_file)
    bottom_share = PORTRAIT_BOTTOM_SAFE_SHARE if height > width else LANDSCAPE_BOTTOM_SHARE
    return CaptionStyle(
        width=width,
        height=height,
        font_size=font_size,
        em_px=em_px,
        outline_px=round(OUTLINE_SHARE_OF_FONT * em_px, 1),
        shadow_px=round(SHADOW_SHARE_OF_FONT * em_px, 1),
        margin_h=round(SIDE_MARGIN_SHARE * width),
        margin_v=round(bottom_share * height),
    )


def measuring_font(style: CaptionStyle, font_file: Path) -> Font:
    return ImageFont.truetype(str(font_file), size=style.em_px)


def find_font_file(fonts_dir: Path, family: str, *, bold: bool = True) -> Path:
    """The TTF/OTF in ``fonts_dir`` of ``family`` (Bold preferred when ``bold``)."""
    wanted_styles = ("Bold", "Regular") if bold else ("Regular",)
    candidates = {
        ImageFont.truetype(str(path), size=10).getname(): path
        for path in sorted(fonts_dir.iterdir())
        if path.suffix.lower() in {".ttf", ".otf"}
    }
    for style_name in wanted_styles:
        if (family, style_name) in candidates:
            return candidates[(family, style_name)]
    raise FileNotFoundError(f"no {family} {'/'.join(wanted_styles)} font in {fonts_dir}")


def ass_escape(text: str) -> str:
    """Text that libass draws literally: no override blocks, escapes or stray line breaks.

    A backslash gets an invisible word joiner after it, so ``C:\\New`` is not read as a
    line break; braces become libass's ``\\{`` / ``\\}``.
    """
    escaped = text.replace("\\", "\\" + WORD_JOINER)
    return escaped.replace("{", "\\{").replace("}", "\\}")


def ass_timestamp(seconds: float) -> str:
    """``H:MM:SS.cc``, rounded to the centisecond."""
    centis = max(round(seconds * 100), 0)
    hours, centis = divmod(centis, 360_000)
    minutes, centis = divmod(centis, 6_000)
    secs, centis = divmod(centis, 100)
    return f"{hours}:{minutes:02d}:{secs:02d}.{centis:02d}"


def _non_overlapping(cues: Sequence[CaptionCue]) -> list[CaptionCue]:
    """Cues in time order, each ending no later than the next starts; empty ones dropped."""
    ordered = sorted((c for c in cues if c.text.strip()), key=lambda c: c.start)
    trimmed: list[CaptionCue] = []
    for i, cue in enumerate(ordered):
        end = min(cue.end, ordered[i + 1].start) if i + 1 < len(ordered) else cue.end
        if end > cue.start:
            trimmed.append(cue.model_copy(update={"end": end}))
    return trimmed


def _split_in_time(cue: CaptionCue, lines: list[str], max_lines: int) -> list[CaptionEvent]:
    """Consecutive events of at most ``max_lines`` lines, timed by their share of characters."""
    chunks = [tuple(lines[i : i + max_lines]) for i in range(0, len(lines), max_lines)]
    weights = [sum(len(line) for line in chunk) for chunk in chunks]
    duration, total = cue.end - cue.start, sum(weights)
    ends = [cue.start + duration * done / total for done in accumulate(weights)]
    ends[-1] = cue.end
    starts = [cue.start, *ends[:-1]]
    return [
        CaptionEvent(start=start, end=end, lines=chunk)
        for start, end, chunk in zip(starts, ends, chunks, strict=True)
    ]


def caption_events(
    cues: Sequence[CaptionCue], font: Font, max_width: float, *, max_lines: int = MAX_LINES
) -> list[CaptionEvent]:
    """Cues wrapped to ``max_width`` pixels of ``font``, at most ``max_lines`` lines each."""
    events: list[CaptionEvent] = []
    for cue in _non_overlapping(cues):
        lines = wrap_text(cue.text.strip(), font, max_width)
        events.extend(_split_in_time(cue, lines, max_lines))
    return events


def _style_line(style: CaptionStyle, font_family: str) -> str:
    fields = [
        "Default",
        font_family,
        str(style.font_size),
        "&H00FFFFFF",  # primary: opaque white (&HAABBGGRR, alpha 00 = opaque)
        "&H00FFFFFF",
        "&H00101010",  # outline: near-black
        "&H80000000",  # shadow: half-transparent black
        "-1",  # bold
        "0",
        "0",
        "0",
        "100",
        "100",
        "0",
        "0",
        "1",  # border style: outline + drop shadow
        f"{style.outline_px:g}",
        f"{style.shadow_px:g}",
        "2",  # bottom centre
        str(style.margin_h),
        str(style.margin_h),
        str(style.margin_v),
        "1",
    ]
    return "Style: " + ",".join(fields)


def _dialogue_line(event: CaptionEvent) -> str:
    text = r"\N".join(ass_escape(line) for line in event.lines)
    start, end = ass_timestamp(event.start), ass_timestamp(event.end)
    return f"Dialogue: 0,{start},{end},Default,,0,0,0,,{text}"


def build_ass(
    cues: Sequence[CaptionCue],
    width: int,
    height: int,
    *,
    font_family: str = FAMILY,
    font_file: Path | None = None,
) -> str:
    """A complete ASS script for a ``width`` by ``height`` video.

    ``font_file`` is the TTF libass will pick for ``font_family`` bold; it is used to
    measure lines (default: NanumGothic Bold).
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"video size must be positive, got {width}x{height}")
    measured_with = font_file or font_path(bold=True)
    style = caption_style(width, height, measured_with)
    font = measuring_font(style, measured_with)
    events = caption_events(cues, font, style.max_line_width)
    header = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 2",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: None",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        _style_line(style, font_family),
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    return "\n".join([*header, *(_dialogue_line(e) for e in events)]) + "\n"


def write_ass(
    path: Path,
    cues: Sequence[CaptionCue],
    width: int,
    height: int,
    *,
    font_family: str = FAMILY,
    font_file: Path | None = None,
) -> Path:
    script = build_ass(cues, width, height, font_family=font_family, font_file=font_file)
    path.write_text(script, encoding="utf-8")
    return path
