"""Stills: text, shapes and images drawn once with Pillow at their box size.

Text is wrapped by measured pixel width (``text_layout``: Korean breaks
between words, over-long words between syllables) and, without a ``font_size``, set at the
largest size that fits the box.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from autoclip_core.render.colors import parse_color
from autoclip_core.render.fonts import font_file, is_bold
from autoclip_core.render.renderscript import ShapeElement, TemplateError, TextElement
from autoclip_core.render.text_layout import Font, wrap_text
from autoclip_core.render.timeline import Placed, length, percent

SUPERSAMPLE = 3
MIN_FONT_PX = 8
DEFAULT_LINE_HEIGHT = 1.2


@dataclass(frozen=True)
class TextLayout:
    font_file: Path
    size: float
    lines: list[str]
    line_height: float


def layout_text(item: Placed, text: str, frame: tuple[int, int]) -> TextLayout:
    """Wrapped lines and font size for ``text`` in the element's box."""
    element = item.element
    assert isinstance(element, TextElement)
    path = font_file(element.font_family, is_bold(element), item.where)
    spacing = percent(element.line_height, DEFAULT_LINE_HEIGHT)
    stroke = length(element.stroke_width, item.box.width, frame, 0) if element.stroke_color else 0
    room_w, room_h = item.box.width - 2 * stroke, item.box.height - 2 * stroke
    fixed = element.font_size is not None
    size = length(element.font_size, item.box.height, frame, 0) if fixed else room_h
    while True:
        font = ImageFont.truetype(str(path), size=max(size, MIN_FONT_PX))
        lines = wrap_text(text, font, room_w)
        height = size * spacing * (len(lines) - 1) + size
        if fixed or height <= room_h or size <= MIN_FONT_PX:
            return TextLayout(path, max(size, MIN_FONT_PX), lines, size * spacing)
        size *= 0.92


def _line_width(font: Font, line: str) -> float:
    return font.getlength(line)


def draw_text(item: Placed, frame: tuple[int, int]) -> Image.Image:
    element = item.element
    assert isinstance(element, TextElement)
    scale = SUPERSAMPLE
    w, h = item.box.size
    canvas = Image.new("RGBA", (w * scale, h * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    if element.background_color:
        draw.rectangle((0, 0, w * scale, h * scale), fill=parse_color(element.background_color))
    if element.text.strip():
        layout = layout_text(item, element.text, frame)
        font = ImageFont.truetype(str(layout.font_file), size=layout.size * scale)
        stroke = 0
        if element.stroke_color:
            stroke = round(length(element.stroke_width, w, frame, 0) * scale)
        block = layout.line_height * (len(layout.lines) - 1) + layout.size
        top = (h - block) * percent(element.y_alignment, 0.5) * scale
        ascent, descent = font.getmetrics()
        first_baseline = top + layout.size * scale * ascent / (ascent + descent)
        for n, line in enumerate(layout.lines):
            line_w = _line_width(font, line)
            left = (w * scale - line_w) * percent(element.x_alignment, 0.5)
            draw.text(
                (left, first_baseline + n * layout.line_height * scale),
                line,
                anchor="ls",
                font=font,
                fill=parse_color(element.fill_color or "#ffffff"),
                stroke_width=stroke,
                stroke_fill=parse_color(element.stroke_color) if element.stroke_color else None,
            )
    return _finish(canvas, (w, h), element.opacity)


_PATH_TOKEN = re.compile(r"[MLHVCQZmlhvcqz]|-?\d*\.?\d+(?:e-?\d+)?")


def shape_points(
    path: str, width: float, height: float, where: str
) -> list[list[tuple[float, float]]]:
    """An SVG path in percent of the box → closed polygons in pixels (curves sampled)."""
    tokens = _PATH_TOKEN.findall(path)
    polygons: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    x = y = 0.0
    i = 0

    def numbers(count: int) -> list[float]:
        nonlocal i
        values = tokens[i : i + count]
        if len(values) < count or any(v.isalpha() for v in values):
            raise TemplateError(
                f"{where}.path", f"malformed path near {' '.join(tokens[i - 1 : i + 3])!r}"
            )
        i += count
        return [float(v) for v in values]

    command = ""
    while i < len(tokens):
        if tokens[i].isalpha():
            command = tokens[i]
            i += 1
        if command in "Zz":
            if current:
                polygons.append(current)
            current = []
            continue
        relative = command.islower()
        upper = command.upper()
        if upper == "M":
            if current:
                polygons.append(current)
            dx, dy = numbers(2)
            x, y = (x + dx, y + dy) if relative else (dx, dy)
            current = [(x, y)]
            command = "l" if relative else "L"
        elif upper == "L":
            dx, dy = numbers(2)
            x, y = (x + dx, y + dy) if relative else (dx, dy)
            current.append((x, y))
        elif upper == "H":
            (dx,) = numbers(1)
            x = x + dx if relative else dx
            current.append((x, y))
        elif upper == "V":
            (dy,) = numbers(1)
            y = y + dy if relative else dy
            current.append((x, y))
        elif upper in ("C", "Q"):
            count = 6 if upper == "C" else 4
            values = numbers(count)
            if relative:
                values = [v + (x if k % 2 == 0 else y) for k, v in enumerate(values)]
            controls = [(x, y)] + [(values[k], values[k + 1]) for k in range(0, count, 2)]
            for step in range(1, 17):
                current.append(_bezier(controls, step / 16))
            x, y = controls[-1]
        else:
            raise TemplateError(f"{where}.path", f"unsupported path command {command!r}")
    if current:
        polygons.append(current)
    return [[(px * width / 100, py * height / 100) for px, py in poly] for poly in polygons]


def _bezier(points: list[tuple[float, float]], t: float) -> tuple[float, float]:
    while len(points) > 1:
        points = [
            (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
            for a, b in itertools.pairwise(points)
        ]
    return points[0]


def draw_shape(item: Placed, frame: tuple[int, int]) -> Image.Image:
    element = item.element
    assert isinstance(element, ShapeElement)
    scale = SUPERSAMPLE
    w, h = item.box.size
    canvas = Image.new("RGBA", (w * scale, h * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    polygons = shape_points(element.path, w * scale, h * scale, item.where)
    stroke = round(length(element.stroke_width, w, frame, 0) * scale) if element.stroke_color else 0
    for polygon in polygons:
        if len(polygon) < 2:
            continue
        draw.polygon(
            polygon,
            fill=parse_color(element.fill_color or "#ffffff"),
            outline=parse_color(element.stroke_color) if stroke else None,
            width=max(stroke, 1),
        )
    return _finish(canvas, (w, h), element.opacity)


def _finish(canvas: Image.Image, size: tuple[int, int], opacity: float | str | None) -> Image.Image:
    image = canvas.resize(size, Image.Resampling.LANCZOS) if canvas.size != size else canvas
    share = percent(opacity, 1.0)
    if share < 1:
        alpha = image.getchannel("A").point(lambda a: round(a * share))
        image.putalpha(alpha)
    return image


def fit_image(
    path: Path, size: tuple[int, int], fit: str, shape: tuple[int, int] | None = None
) -> Image.Image:
    """The image file upright, fitted to the proportions of ``shape`` (default: ``size``)
    and drawn at ``size``: ``cover`` crops, ``contain`` letterboxes (transparent bars). RGB
    when the file has no transparency, else RGBA.

    A zoom source is its box drawn a little smaller and not exactly in proportion (1059x1882
    for 1080x1920): cropped for the box's shape, it shows what the box shows.
    """
    shape = shape or size
    with Image.open(path) as source:
        ImageOps.exif_transpose(source, in_place=True)
        mode = "RGBA" if source.has_transparency_data else "RGB"
        image = source.convert(mode) if source.mode != mode else source
        image.load()
    if image.size == size == shape:
        return image
    if fit == "cover":
        # ImageOps.fit's centred crop for the shape's proportions, resampled once to size
        wide = image.width * shape[1] >= shape[0] * image.height
        crop_w = image.height * shape[0] / shape[1] if wide else image.width
        crop_h = image.height if wide else image.width * shape[1] / shape[0]
        left, top = (image.width - crop_w) / 2, (image.height - crop_h) / 2
        crop = (left, top, left + crop_w, top + crop_h)
        return image.resize(size, Image.Resampling.LANCZOS, box=crop)
    fitted = ImageOps.contain(image, shape, Image.Resampling.LANCZOS)
    box = Image.new("RGBA", shape, (0, 0, 0, 0))
    box.paste(fitted, ((shape[0] - fitted.width) // 2, (shape[1] - fitted.height) // 2))
    return box if shape == size else box.resize(size, Image.Resampling.LANCZOS)
