"""Colours as templates write them, and as Pillow, ffmpeg and libass want them.

A template colour is ``#rgb``, ``#rrggbb``, ``#rrggbbaa``, ``rgb()``/``rgba()`` (alpha 0..1),
or a name: ``transparent``, ``black``, ``white``.
"""

from __future__ import annotations

import re

from PIL import ImageColor

HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
RGBA_COLOR = re.compile(
    r"^rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*(\d*\.?\d+)\s*)?\)$"
)
NAMED_COLORS = {"transparent": "#00000000", "black": "#000000", "white": "#ffffff"}
RGBA = tuple[int, int, int, int]


def check_color(value: str | None) -> str | None:
    """``value`` if it is a colour we can draw (a pydantic validator); ValueError if not."""
    if value is None:
        return None
    if value in NAMED_COLORS or HEX_COLOR.match(value):
        return value
    rgba = RGBA_COLOR.match(value)
    if rgba:
        r, g, b, a = rgba.groups()
        if max(int(r), int(g), int(b)) > 255 or (a is not None and float(a) > 1):
            raise ValueError(f"{value!r}: channels go to 255 and alpha to 1")
        return value
    raise ValueError(f"{value!r} is not a colour (#rgb, #rrggbb, #rrggbbaa, rgba(), transparent)")


def parse_color(value: str) -> RGBA:
    value = NAMED_COLORS.get(value, value)
    match = RGBA_COLOR.match(value)
    if match:
        r, g, b, a = match.groups()
        alpha = round(float(a) * 255) if a is not None else 255
        return int(r), int(g), int(b), alpha
    if len(value) == 9:
        return tuple(int(value[i : i + 2], 16) for i in (1, 3, 5, 7))  # type: ignore[return-value]
    r, g, b = ImageColor.getrgb(value)[:3]
    return r, g, b, 255


def ass_color(value: str) -> str:
    """``#rrggbb[aa]`` → libass ``&HAABBGGRR`` (alpha inverted: 00 is opaque)."""
    r, g, b, a = parse_color(value)
    return f"&H{255 - a:02X}{b:02X}{g:02X}{r:02X}"


def ffmpeg_color(value: str) -> str:
    """A colour as ffmpeg's ``color`` source takes it: ``0xrrggbb@alpha``."""
    r, g, b, a = parse_color(value)
    return f"0x{r:02x}{g:02x}{b:02x}@{a / 255:.3f}"
