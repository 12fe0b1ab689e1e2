"""Scene visuals made on this machine: a matching photo from the user's library, or a designed card.

A designed card is a two-colour diagonal gradient (palette picked from the video title, so
every scene of one video belongs to the same family, shifted a little per scene) with soft
translucent blobs for depth, the video title small at the top, an ``index/total`` pill and
a big bold headline in the upper middle. The lower ~35% of the frame stays calm: captions
and the platforms' own buttons go there.

Everything is derived from the card with hashlib (never ``hash()``, which is salted per
process), so the same card always gives the same bytes.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import dagster as dg
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

from autoclip_core.render.fonts import font_path
from autoclip_core.render.text_layout import Font, text_width, wrap_text
from resources.errors import VisualsError
from resources.visuals.base import SceneCard, VisualResult, VisualsResource

log = dg.get_dagster_logger(__name__)

RGB = tuple[int, int, int]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp"})
JPEG_SUFFIXES = frozenset({".jpg", ".jpeg"})

# (start, end) colours of the background gradient: deep enough for white text.
PALETTES: tuple[tuple[str, str], ...] = (
    ("#1f1c6b", "#3f7fd6"),
    ("#3a1c71", "#c0507a"),
    ("#0b4f4a", "#2a9d8f"),
    ("#5b1a3a", "#d1495b"),
    ("#1d2b64", "#7b4fb0"),
    ("#0f3443", "#2f8f6f"),
    ("#6a1b4d", "#d9663a"),
    ("#162447", "#1f7a9b"),
    ("#2d1b4e", "#6a55c8"),
    ("#4a1942", "#a3407f"),
    ("#0d3b66", "#3a86c8"),
    ("#3d2c1e", "#b0652a"),
)

WHITE: RGB = (255, 255, 255)
INK: RGB = (20, 24, 36)
ELLIPSIS = "…"

# Layout, as fractions of the frame (``unit`` is the shorter side).
MARGIN = 0.075  # of unit
TOP_BAND = 0.06  # of height: keeps the title clear of the platforms' top bar
HEADLINE_WIDTH = 0.84  # of width
HEADLINE_MAX_HEIGHT = 0.40  # of height
FREE_BOTTOM = 0.35  # of height, left for captions and platform UI
HEADLINE_SIZE_MAX = 0.112  # of unit
HEADLINE_SIZE_MIN = 0.045  # of unit
LINE_SPACING = 1.22  # of font size
TITLE_SIZE = 0.032  # of unit
PILL_SIZE = 0.03  # of unit

# Library matching.
KEYWORD_WEIGHT = 2
QUERY_WEIGHT = 1
TERM_SEPARATORS = re.compile(r"[\s\-_.,;:/|#]+")
QUERY_STOPWORDS = frozenset({"the", "and", "for", "with", "from", "into", "about", "over"})
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
KOREAN_PARTICLES = (
    "에서",
    "으로",
    "이",
    "가",
    "은",
    "는",
    "을",
    "를",
    "의",
    "에",
    "로",
    "와",
    "과",
    "도",
)


class LocalVisuals(VisualsResource):
    """Offline scene visuals: the user's own photos when one matches, else a designed card."""

    library_dir: str | None = None
    style_version: str = "1"

    def fingerprint_inputs(self) -> str:
        font = font_path(bold=True)
        return (
            f"{type(self).__name__}:style={self.style_version}"
            f":font={font.name}/{font.stat().st_size}"
            f":library={library_identity(self.library_dir)}"
        )

    def scene_image(self, card: SceneCard, out_path: Path) -> VisualResult:
        size = (card.width, card.height)
        photo = None
        if self.library_dir is not None:
            photo = best_library_photo(Path(self.library_dir), card)
        if photo is not None:
            matched, image = photo
            background = darken_top(image)
            result = VisualResult(origin="library", matched_file=str(matched))
        else:
            background = designed_background(card.title, card.index, size)
            result = VisualResult(origin="generated")
        try:
            save_image(draw_text_overlay(background, card), out_path)
        except OSError as exc:
            raise VisualsError(f"could not write the scene image {out_path.name}: {exc}") from exc
        return result


# ---------------------------------------------------------------- library


def library_identity(library_dir: str | None) -> str:
    """Library path plus a cheap hash of its images' and sidecars' names, sizes and mtimes."""
    if library_dir is None:
        return "none"
    root = Path(library_dir).resolve()
    if not root.is_dir():
        return f"{root}#missing"
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and is_library_file(p)):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return f"{root}#{digest.hexdigest()[:16]}"


def is_library_file(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix in IMAGE_SUFFIXES or suffix == ".txt"


def library_images(root: Path) -> list[Path]:
    if not root.is_dir():
        log.warning(f"visuals library {root} is not a folder; generating cards instead")
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def best_library_photo(root: Path, card: SceneCard) -> tuple[Path, Image.Image] | None:
    """The best-scoring library image that loads, cover-cropped to the card, or None."""
    wanted = weighted_card_terms(card)
    scored = [(match_score(wanted, image_terms(path)), path) for path in library_images(root)]
    ranked = sorted((item for item in scored if item[0] > 0), key=lambda it: (-it[0], str(it[1])))
    for _, path in ranked:
        image = load_cover_cropped(path, (card.width, card.height))
        if image is not None:
            return path, image
    return None


def split_terms(text: str) -> Iterator[str]:
    for term in TERM_SEPARATORS.split(text.casefold()):
        if term:
            yield singular(term)


def singular(term: str) -> str:
    """Crude English plural folding, so 'drones' finds 'drone'."""
    if term.isascii() and len(term) > 3 and term.endswith("s") and not term.endswith("ss"):
        return term[:-1]
    return term


def weighted_card_terms(card: SceneCard) -> dict[str, int]:
    terms = {
        term: QUERY_WEIGHT
        for term in split_terms(card.query)
        if term not in QUERY_STOPWORDS and (len(term) > 2 or HANGUL.search(term))
    }
    for keyword in card.keywords:
        terms.update(dict.fromkeys(split_terms(keyword), KEYWORD_WEIGHT))
    return terms


def image_terms(path: Path) -> set[str]:
    """Terms of the file's name stem plus its optional sidecar tags (``x.txt`` or ``x.jpg.txt``)."""
    terms = set(split_terms(path.stem))
    for sidecar in (path.with_suffix(".txt"), path.with_name(f"{path.name}.txt")):
        if sidecar.is_file():
            terms.update(split_terms(sidecar.read_text(encoding="utf-8", errors="replace")))
    return terms


def without_particle(term: str) -> str:
    """'드론이' → '드론': a Korean word without its trailing particle (if a stem is left)."""
    for particle in KOREAN_PARTICLES:
        if term.endswith(particle) and len(term) - len(particle) >= 2:
            return term[: -len(particle)]
    return term


def term_matches(term: str, image_terms_: set[str]) -> bool:
    """Latin terms match whole words; Korean ones as substrings (either way, for particles)."""
    if not HANGUL.search(term):
        return term in image_terms_
    stem = without_particle(term)
    return any(
        stem in candidate or (len(candidate) >= 2 and candidate in term)
        for candidate in image_terms_
        if HANGUL.search(candidate)
    )


def match_score(wanted: dict[str, int], image_terms_: set[str]) -> int:
    return sum(weight for term, weight in wanted.items() if term_matches(term, image_terms_))


def load_cover_cropped(path: Path, size: tuple[int, int]) -> Image.Image | None:
    """The image centre-cropped and resized to fill ``size`` exactly; None if it won't decode."""
    try:
        with Image.open(path) as image:
            image.draft("RGB", size)
            upright = ImageOps.exif_transpose(image)
            return ImageOps.fit(flatten_to_rgb(upright), size, Image.Resampling.LANCZOS)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        log.warning(f"skipping unreadable library image {path}: {exc}")
        return None


def flatten_to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    rgba = image.convert("RGBA")
    backdrop = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
    return Image.alpha_composite(backdrop, rgba).convert("RGB")


def veil_mask(size: tuple[int, int]) -> Image.Image:
    """How dark the veil over the headline's part of a frame is: half black at the top,
    fading out below the headline."""
    strength, solid_until, clear_from = 0.5, 0.45, 0.75

    def veil(level: int) -> int:
        depth = min(1.0, max(0.0, (level / 255 - solid_until) / (clear_from - solid_until)))
        smooth = depth * depth * (3 - 2 * depth)
        return round(255 * strength * (1 - smooth))

    return Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR).point(veil)


def darken_top(photo: Image.Image) -> Image.Image:
    """A black veil over the headline's part of the photo, fading out below it."""
    return Image.composite(Image.new("RGB", photo.size, (0, 0, 0)), photo, veil_mask(photo.size))


# ---------------------------------------------------------------- designed background


def digest(*parts: object) -> bytes:
    return hashlib.sha256("\0".join(map(str, parts)).encode()).digest()


def hex_to_rgb(colour: str) -> RGB:
    value = int(colour.removeprefix("#"), 16)
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def shift_hue(colour: RGB, degrees: float) -> RGB:
    hue, lightness, saturation = colorsys.rgb_to_hls(*(c / 255 for c in colour))
    red, green, blue = colorsys.hls_to_rgb((hue + degrees / 360) % 1, lightness, saturation)
    return round(red * 255), round(green * 255), round(blue * 255)


def mix(a: RGB, b: RGB, amount: float) -> RGB:
    red, green, blue = (round(x + (y - x) * amount) for x, y in zip(a, b, strict=True))
    return red, green, blue


def scene_colours(title: str, index: int) -> tuple[RGB, RGB]:
    """The title's palette, hue-shifted by up to ±12° depending on the scene."""
    start, end = PALETTES[digest("palette", title)[0] % len(PALETTES)]
    shift = (digest("shift", title, index)[0] / 255 - 0.5) * 24
    return shift_hue(hex_to_rgb(start), shift), shift_hue(hex_to_rgb(end), shift)


def diagonal_gradient(size: tuple[int, int], start: RGB, end: RGB) -> Image.Image:
    """``start`` in the top-left corner blending smoothly to ``end`` in the bottom-right."""
    vertical = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    left_to_right = Image.linear_gradient("L").rotate(90)
    horizontal = left_to_right.resize(size, Image.Resampling.BILINEAR)
    mask = ImageChops.add(horizontal, vertical, scale=2.0)
    return Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), mask)


@dataclass(frozen=True)
class Blob:
    centre: tuple[float, float]  # fractions of width, height
    radius: float  # fraction of the shorter side
    colour: RGB
    alpha: int


def scene_blobs(title: str, index: int, start: RGB, end: RGB) -> list[Blob]:
    """Three to four big soft shapes, placed by the scene's hash, tinted from its palette."""
    seed = digest("blobs", title, index)
    tints = (mix(end, WHITE, 0.3), mix(start, WHITE, 0.15), mix(end, WHITE, 0.2), start)
    return [
        Blob(
            centre=(seed[4 * i] / 255 * 1.2 - 0.1, seed[4 * i + 1] / 255 * 1.2 - 0.1),
            radius=0.25 + seed[4 * i + 2] / 255 * 0.35,
            colour=tints[i],
            alpha=40 + seed[4 * i + 3] % 40,
        )
        for i in range(3 + seed[31] % 2)
    ]


def draw_blobs(background: Image.Image, blobs: Iterable[Blob]) -> Image.Image:
    """``background`` with the blobs composited on it as soft-edged translucent circles."""
    unit = min(background.size)
    canvas = background.convert("RGBA")
    for blob in blobs:
        shape = Image.new("RGBA", canvas.size, (*blob.colour, 0))
        cx, cy = blob.centre[0] * canvas.width, blob.centre[1] * canvas.height
        radius = blob.radius * unit
        ImageDraw.Draw(shape).ellipse(
            (cx - radius, cy - radius, cx + radius, cy + radius), fill=(*blob.colour, blob.alpha)
        )
        canvas = Image.alpha_composite(canvas, shape.filter(ImageFilter.GaussianBlur(unit * 0.02)))
    return canvas.convert("RGB")


def designed_background(title: str, index: int, size: tuple[int, int]) -> Image.Image:
    """Gradient and blobs, drawn at quarter size (all soft, so nothing is lost) and scaled up."""
    small = (max(1, size[0] // 4), max(1, size[1] // 4))
    start, end = scene_colours(title, index)
    gradient = diagonal_gradient(small, start, end)
    background = draw_blobs(gradient, scene_blobs(title, index, start, end))
    return background.resize(size, Image.Resampling.BICUBIC)


# ---------------------------------------------------------------- text


@cache
def load_font(size: int, bold: bool) -> Font:
    return ImageFont.truetype(str(font_path(bold=bold)), size)


def ellipsize(text: str, font: Font, max_width: float) -> str:
    """``text`` cut (with an ellipsis) so it fits ``max_width``."""
    if text_width(text, font) <= max_width:
        return text
    while text and text_width(text + ELLIPSIS, font) > max_width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def block_height(line_count: int, font: Font) -> int:
    ascent, descent = font.getmetrics()
    return round((line_count - 1) * font.size * LINE_SPACING) + ascent + descent


def fit_headline(
    headline: str, max_width: float, max_height: float, unit: int
) -> tuple[Font, list[str]]:
    """The largest font whose wrapped lines fit the box; at the minimum size, lines are cut."""
    size = round(unit * HEADLINE_SIZE_MAX)
    smallest = max(8, round(unit * HEADLINE_SIZE_MIN))
    while True:
        font = load_font(size, bold=True)
        lines = wrap_text(headline, font, max_width)
        if block_height(len(lines), font) <= max_height:
            return font, lines
        if size <= smallest:
            return font, truncate_lines(lines, font, max_width, max_height)
        size = max(smallest, int(size * 0.94))


def truncate_lines(lines: list[str], font: Font, max_width: float, max_height: float) -> list[str]:
    kept = list(lines)
    while len(kept) > 1 and block_height(len(kept), font) > max_height:
        kept.pop()
    if len(kept) < len(lines):
        kept[-1] = ellipsize(kept[-1] + ELLIPSIS, font, max_width)
    return kept


@dataclass(frozen=True)
class PlacedText:
    text: str
    xy: tuple[int, int]  # left, top of the ascender line (PIL anchor "la")
    font: Font

    def moved_down(self, pixels: int) -> PlacedText:
        return PlacedText(self.text, (self.xy[0], self.xy[1] + pixels), self.font)


def draw_placed(draw: ImageDraw.ImageDraw, placed: PlacedText, fill: int | tuple[int, ...]) -> None:
    draw.text(placed.xy, placed.text, font=placed.font, fill=fill, anchor="la")


@dataclass(frozen=True)
class Pill:
    box: tuple[int, int, int, int]
    label: PlacedText


@dataclass(frozen=True)
class CardLayout:
    title: PlacedText
    pill: Pill | None
    """The ``index/total`` pill; none on a card without a headline (the template's text)."""
    headline: list[PlacedText]


def place_pill(
    label: str, left: int, top: int, unit: int
) -> tuple[tuple[int, int, int, int], PlacedText]:
    """The pill's box and its label, with the box's top-left corner at (``left``, ``top``)."""
    font = load_font(round(unit * PILL_SIZE), bold=True)
    pad_x, pad_y = round(font.size * 0.8), round(font.size * 0.42)
    ascent, descent = font.getmetrics()
    box = (
        left,
        top,
        left + round(text_width(label, font)) + 2 * pad_x,
        top + ascent + descent + 2 * pad_y,
    )
    return box, PlacedText(label, (left + pad_x, top + pad_y), font)


def layout_card(card: SceneCard) -> CardLayout:
    """Where the title, the ``index/total`` pill and the headline lines go.

    Pill and headline form one group, centred between the title and the caption zone
    (the bottom ``FREE_BOTTOM`` of the frame), which nothing enters.
    """
    width, height = card.width, card.height
    unit = min(width, height)
    top = max(round(unit * MARGIN), round(height * TOP_BAND))
    max_width = width * HEADLINE_WIDTH
    left = round((width - max_width) / 2)
    gap = round(unit * 0.035)

    title_font = load_font(round(unit * TITLE_SIZE), bold=False)
    title = PlacedText(ellipsize(card.title, title_font, max_width), (left, top), title_font)

    region_top = top + block_height(1, title_font) + gap
    region_bottom = round(height * (1 - FREE_BOTTOM))
    label = f"{card.index}/{card.total}"
    pill_height = place_pill(label, 0, 0, unit)[0][3]
    room = min(height * HEADLINE_MAX_HEIGHT, region_bottom - region_top - pill_height - gap)
    font, lines = fit_headline(card.headline, max_width, room, unit)

    group_height = pill_height + gap + block_height(len(lines), font)
    group_top = max(region_top, region_top + (region_bottom - region_top - group_height) // 2)
    pill = Pill(*place_pill(label, left, group_top, unit)) if card.headline.strip() else None
    text_top = group_top + pill_height + gap
    line_step = font.size * LINE_SPACING
    headline = [
        PlacedText(line, (left, round(text_top + i * line_step)), font)
        for i, line in enumerate(lines)
        if line
    ]
    return CardLayout(title, pill, headline)


def text_shadow(size: tuple[int, int], layout: CardLayout, unit: int) -> Image.Image:
    """A soft dark halo under every piece of text, offset slightly downwards."""
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    offset = max(1, round(unit * 0.004))
    for placed in (layout.title, *layout.headline):
        draw_placed(draw, placed.moved_down(offset), 255)
    if layout.pill is not None:
        left, top, right, bottom = layout.pill.box
        draw.rounded_rectangle(
            (left, top + offset, right, bottom + offset), radius=(bottom - top) // 2, fill=140
        )
    return mask.filter(ImageFilter.GaussianBlur(unit * 0.009)).point(lambda v: v * 150 // 255)


def text_layer(size: tuple[int, int], layout: CardLayout) -> Image.Image:
    """Title, pill and headline on a transparent layer."""
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw_placed(draw, layout.title, (*WHITE, 200))
    if layout.pill is not None:
        pill_height = layout.pill.box[3] - layout.pill.box[1]
        draw.rounded_rectangle(layout.pill.box, radius=pill_height // 2, fill=(*WHITE, 235))
        draw_placed(draw, layout.pill.label, (*INK, 255))
    for line in layout.headline:
        draw_placed(draw, line, (*WHITE, 255))
    return overlay


def draw_text_overlay(background: Image.Image, card: SceneCard) -> Image.Image:
    """Title, pill and headline, with a subtle shadow, over ``background``."""
    layout = layout_card(card)
    unit = min(background.size)
    shadowed = Image.composite(
        Image.new("RGB", background.size, (0, 0, 0)),
        background,
        text_shadow(background.size, layout, unit),
    )
    canvas = shadowed.convert("RGBA")
    return Image.alpha_composite(canvas, text_layer(canvas.size, layout)).convert("RGB")


def headline_overlay(card: SceneCard) -> Image.Image:
    """The card's veil, text shadow and text on transparency (RGBA): what ``darken_top`` and
    ``draw_text_overlay`` put over a photo, to lay over moving footage instead."""
    size = (card.width, card.height)
    layout = layout_card(card)
    # Two black layers over each other cover 1 - (1 - a)(1 - b): ImageChops.screen.
    shade = ImageChops.screen(veil_mask(size), text_shadow(size, layout, min(size)))
    layer = Image.new("RGBA", size, (0, 0, 0, 255))
    layer.putalpha(shade)
    return Image.alpha_composite(layer, text_layer(size, layout))


# ---------------------------------------------------------------- output


def save_image(image: Image.Image, out_path: Path) -> None:
    """PNG, or a high-quality JPEG (4:4:4, so text stays crisp) for .jpg/.jpeg paths."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if out_path.suffix.lower() in JPEG_SUFFIXES:
        image.save(out_path, format="JPEG", quality=93, subsampling=0, optimize=True)
    else:
        image.save(out_path, format="PNG", compress_level=3)
