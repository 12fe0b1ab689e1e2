"""Stills: text, shapes and images drawn once with Pillow at their box size.

Text comes laid out (``text_layout``: its font size, wrapped lines and box); it is drawn
three times larger and scaled down, for smooth edges.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from autoclip_core.render.colors import parse_color
from autoclip_core.render.renderscript import (
    ShapeElement,
    TemplateError,
    TextElement,
    length,
    percent,
)
from autoclip_core.render.text_layout import Font, TextLayout, cell_overshoot, has_background
from autoclip_core.render.timeline import Placed

SUPERSAMPLE = 3


def draw_text(item: Placed, frame: tuple[int, int]) -> Image.Image:
    """The text's still at its box size: the background behind each line, then the lines."""
    element, layout = item.element, item.text
    assert isinstance(element, TextElement)
    assert layout is not None
    scale = SUPERSAMPLE
    w, h = item.box.size
    canvas = Image.new("RGBA", (w * scale, h * scale), (0, 0, 0, 0))
    if not element.text.strip():
        return _finish(canvas, (w, h), element.opacity)
    font = ImageFont.truetype(str(layout.font_file), size=layout.size * scale)
    stroke = 0
    if element.stroke_color:
        stroke_px = (
            layout.stroke if layout.auto_width else length(element.stroke_width, w, frame, 0)
        )
        stroke = round(stroke_px * scale)
    block = layout.line_height * (len(layout.lines) - 1) + layout.size
    free_h = h - layout.margin_top - layout.margin_bottom - block
    y_share = percent(element.y_alignment, 0)
    top = (layout.margin_top + free_h * y_share) * scale
    # Text aligned towards an edge stays inside it, its tallest glyphs and stroke included;
    # centred text is centred by its em boxes.
    above, below = cell_overshoot(font, layout.size * scale)
    if y_share < 0.5:
        top = max(top, above + stroke)
    elif y_share > 0.5:
        top = min(top, h * scale - block * scale - below - stroke)
    ascent, descent = font.getmetrics()
    first_baseline = top + layout.size * scale * ascent / (ascent + descent)
    x_share = percent(element.x_alignment, 0)
    inner_w = (w - 2 * layout.margin_x) * scale
    lines = []  # (line, left, width) in canvas pixels
    for line in layout.lines:
        line_w = font.getlength(line)
        left = layout.margin_x * scale + (inner_w - line_w) * x_share
        if x_share < 0.5:
            left = max(left, stroke)
        elif x_share > 0.5:
            left = min(left, w * scale - line_w - stroke)
        lines.append((line, left, line_w))
    if has_background(element):
        assert element.background_color is not None
        canvas = _line_backgrounds(canvas.size, lines, top, font, layout, element.background_color)
    draw = ImageDraw.Draw(canvas)
    for n, (line, left, _) in enumerate(lines):
        draw.text(
            (left, first_baseline + n * layout.line_height * scale),
            line,
            anchor="ls",
            font=font,
            fill=parse_color(element.fill_color or "#000000"),
            stroke_width=stroke,
            stroke_fill=parse_color(element.stroke_color) if element.stroke_color else None,
        )
    return _finish(canvas, (w, h), element.opacity)


def _line_backgrounds(
    size: tuple[int, int],
    lines: list[tuple[str, float, float]],
    top: float,
    font: Font,
    layout: TextLayout,
    color: str,
) -> Image.Image:
    """A canvas holding the background of every line: the line's cell (the font's ascent
    and descent) padded, corners rounded, overlaps drawn once (one mask, then the colour)."""
    scale = SUPERSAMPLE
    em = layout.size * scale
    above, below = cell_overshoot(font, em)
    pad_x, pad_y = layout.padding_x * scale, layout.padding_y * scale
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for n, (line, left, line_w) in enumerate(lines):
        if not line.strip():
            continue
        em_top = top + n * layout.line_height * scale
        box = (
            left - pad_x,
            em_top - above - pad_y,
            left + line_w + pad_x,
            em_top + em + below + pad_y,
        )
        radius = min(layout.radius * scale, (box[2] - box[0]) / 2, (box[3] - box[1]) / 2)
        draw.rounded_rectangle(box, radius=max(radius, 0), fill=255)
    r, g, b, a = parse_color(color)
    canvas = Image.new("RGBA", size, (r, g, b, 0))
    canvas.putalpha(mask.point(lambda v: round(v * a / 255)))
    return canvas


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
