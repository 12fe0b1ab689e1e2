"""Text laid out in pixels: wrapped to a width, sized to fit, and a text element's box.

Breaks at spaces (Korean words, 어절, are space-separated too); a single word wider
than the line is split between syllables/characters. Widths are measured with the
real font, so nothing overflows. ``layout_text`` sizes a text element as Creatomate does
(its font size, and its width and height when they are unset).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from autoclip_core.render.colors import parse_color
from autoclip_core.render.fonts import font_file, is_bold
from autoclip_core.render.renderscript import TextElement, length, percent

Font = ImageFont.FreeTypeFont


def text_width(text: str, font: Font) -> float:
    return font.getlength(text)


def _split_long_word(word: str, font: Font, max_width: float) -> list[str]:
    pieces: list[str] = []
    current = ""
    for char in word:
        if current and text_width(current + char, font) > max_width:
            pieces.append(current)
            current = char
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def wrap_text(text: str, font: Font, max_width: float) -> list[str]:
    """Lines of ``text`` that each fit in ``max_width`` pixels with ``font``."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if text_width(candidate, font) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            if text_width(word, font) <= max_width:
                current = word
            else:
                *full, current = _split_long_word(word, font, max_width)
                lines.extend(full)
        lines.append(current)
    return [line for line in lines if line] or [""]


AUTO_SIZE_STEP = 0.92
"""A font size that does not fit is tried again this much smaller."""


@dataclass(frozen=True)
class TextLayout:
    """A text element's font size, lines and box, in pixels.

    Lines are placed in the box minus its margins by ``x_alignment``/``y_alignment``. An
    unset width or height is the text's own: the widest line, or the lines' cells, plus
    the margins. Margins make room for the stroke and for the background's padding, which
    lies inside the box; a set width or height without a background has none (its stroke
    may touch the edge).
    """

    font_file: Path
    size: float
    lines: list[str]
    line_height: float
    """Baseline to baseline."""
    stroke: float
    width: float
    height: float
    auto_width: bool
    margin_x: float
    margin_top: float
    """From the box's top to the first line's em box."""
    margin_bottom: float
    """From the last line's em box to the box's bottom."""
    padding_x: float
    padding_y: float
    radius: float


def has_background(element: TextElement) -> bool:
    return element.background_color is not None and parse_color(element.background_color)[3] > 0


def background_padding(
    element: TextElement, size: float, frame: tuple[int, int]
) -> tuple[float, float, float]:
    """The background's padding across and up and down, and its corner radius, in pixels
    (``%`` of the font size ``size``)."""
    return (
        length(element.background_x_padding, size, frame, 0),
        length(element.background_y_padding, size, frame, 0),
        length(element.background_border_radius, size, frame, 0),
    )


def cell_overshoot(font: Font, size: float) -> tuple[float, float]:
    """How far the font's line cell (ascent + descent) reaches above and below the em box
    the lines are laid out in (the em box sits in the cell in the ascent's share)."""
    ascent, descent = font.getmetrics()
    extra = ascent + descent - size
    share = ascent / (ascent + descent)
    return extra * share, extra * (1 - share)


def layout_text(
    element: TextElement, parent: tuple[float, float], frame: tuple[int, int], where: str
) -> TextLayout:
    """Font size, lines and box of a text element inside a ``parent`` box (w, h).

    Without a ``font_size``, the size is the largest between ``font_size_minimum`` and
    ``font_size_maximum`` at which the text fits: wrapped into the box when both dimensions
    are set, else unwrapped into the set dimension (and the parent's size for an unset one).
    Lines are then wrapped at the width (the parent's when unset): nothing leaves the parent.
    """
    width = None if element.width is None else length(element.width, parent[0], frame, 0)
    height = None if element.height is None else length(element.height, parent[1], frame, 0)
    reference_h = height if height is not None else parent[1]
    path = font_file(element.font_family, is_bold(element), where)
    spacing = percent(element.line_height, 1.15)
    stroke_of = width if width is not None else parent[0]
    stroke = length(element.stroke_width, stroke_of, frame, 0) if element.stroke_color else 0
    boxed = has_background(element)

    def margins(size: float) -> tuple[float, float]:
        """Room kept across and up and down, around the lines' cells."""
        pad_x, pad_y, _ = background_padding(element, size, frame) if boxed else (0, 0, 0)
        return max(stroke, pad_x), max(stroke, pad_y)

    def room(size: float) -> tuple[float, float]:
        margin_x, margin_y = margins(size)
        room_w = (width if width is not None else parent[0]) - 2 * margin_x
        room_h = (height if height is not None else parent[1]) - 2 * margin_y
        return room_w, room_h

    text = element.text
    wrapped = width is not None and height is not None
    minimum = max(length(element.font_size_minimum, reference_h, frame, 0), 1.0)
    maximum = length(element.font_size_maximum, reference_h, frame, math.inf)
    fixed = element.font_size is not None
    if fixed:
        size = max(length(element.font_size, reference_h, frame, 0), 1.0)
    else:
        size = min(room(0)[1], maximum)  # the most room there can be: start there
    while True:
        font = ImageFont.truetype(str(path), size=max(size, minimum))
        room_w, room_h = room(size)
        lines = wrap_text(text, font, room_w if wrapped else math.inf)
        block = size * spacing * (len(lines) - 1) + size
        if boxed:  # the background covers the cells: they must fit too
            block += sum(cell_overshoot(font, max(size, minimum)))
        fits = block <= room_h and (
            wrapped or max(text_width(line, font) for line in lines) <= room_w
        )
        if fixed or fits or size <= minimum:
            break
        size *= AUTO_SIZE_STEP
    size = size if fixed else max(size, minimum)
    if not wrapped:
        lines = wrap_text(text, font, room_w)
    pad_x, pad_y, radius = background_padding(element, size, frame)
    margin_x, margin_y = margins(size)
    above, below = cell_overshoot(font, size)
    if width is not None and not boxed:
        margin_x = 0.0
    if height is not None and not boxed:
        margin_y = above = below = 0.0
    written = bool(text.strip())
    block = size * spacing * (len(lines) - 1) + size if written else 0.0
    widest = max(text_width(line, font) for line in lines) if written else 0.0
    return TextLayout(
        font_file=path,
        size=size,
        lines=lines,
        line_height=size * spacing,
        stroke=stroke,
        width=width if width is not None else max(math.ceil(widest + 2 * margin_x), 1),
        height=(
            height
            if height is not None
            else max(math.ceil(margin_y + above + block + below + margin_y), 1)
        ),
        auto_width=width is None,
        margin_x=margin_x,
        margin_top=margin_y + above,
        margin_bottom=margin_y + below,
        padding_x=pad_x,
        padding_y=pad_y,
        radius=radius,
    )
