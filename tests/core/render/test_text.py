"""Text elements as Creatomate sizes them: a missing width or height fits the text, the
background sits behind the text (padded by percentages of the font size), alignment
defaults to the top left, and a missing font size is the largest between the minimum and
the maximum that fits.

Each template renders one still frame at full size over a white frame: dark pixels are the
background, white ones on it are the glyphs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.core.render.helpers import render

FRAME_W, FRAME_H = 1080, 1920
WHITE_FRAME = 250
"""Luma above this: untouched white frame."""
DARK = 140
"""Luma below this: the 60 % black background over white (~102), not a glyph."""


def still(tmp_path: Path, *elements: dict[str, Any], snapshot_time: float = 0) -> np.ndarray:
    """A frame (the first) of a 1080x1920 white video with ``elements``, as luma."""
    template = {
        "width": FRAME_W, "height": FRAME_H, "frame_rate": 30, "duration": snapshot_time + 0.2,
        "fill_color": "#ffffff", "snapshot_time": snapshot_time, "elements": list(elements),
    }  # fmt: skip
    rendered = render(template, tmp_path, "text", snapshot=True)
    assert rendered.snapshot is not None
    with Image.open(rendered.snapshot) as image:
        return np.asarray(image.convert("L")).astype(np.int32)


def bounds(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the true pixels, right and bottom exclusive."""
    rows, columns = np.nonzero(mask)
    assert rows.size, "no such pixels"
    return int(columns.min()), int(rows.min()), int(columns.max()) + 1, int(rows.max()) + 1


CAPTION = {
    "type": "text", "text": "Solar beats coal", "y": "75%", "width": "90%",
    "font_size": "6 vmin", "fill_color": "#ffffff", "background_color": "rgba(0,0,0,0.6)",
}  # fmt: skip
FONT_PX = 0.06 * FRAME_W


def test_a_text_without_a_height_darkens_only_a_box_around_its_text(tmp_path: Path) -> None:
    """The report: y 75 %, width 90 %, no height, a 60 % black background. The background
    must hug the text, not fill the lower three quarters of the frame."""
    luma = still(tmp_path, CAPTION)
    left, top, right, bottom = bounds(luma < DARK)
    assert bottom - top < 2 * FONT_PX  # one line of text, padded: not 3/4 of the frame
    assert abs((top + bottom) / 2 - 0.75 * FRAME_H) <= 4
    assert right - left < 0.6 * FRAME_W  # as wide as the text, not the element's 90 %
    lower = luma[FRAME_H // 4 :]
    outside = np.ones(lower.shape, bool)
    edge = 6  # the background's anti-aliased rim
    outside[
        top - FRAME_H // 4 - edge : bottom - FRAME_H // 4 + edge, left - edge : right + edge
    ] = False
    assert (lower[outside] > WHITE_FRAME).all()  # the rest of the lower 3/4 is untouched
    box = luma[top:bottom, left:right]
    assert ((box < DARK) | (box > 200)).mean() > 0.9  # dark behind the white glyphs


def test_the_background_is_padded_by_shares_of_the_font_size(tmp_path: Path) -> None:
    """Creatomate's default padding is 26 % of the font size across and 7 % up and down;
    at x_alignment 0 % the background starts at the element's left edge."""
    luma = still(tmp_path, CAPTION)
    left, top, right, bottom = bounds(luma < DARK)
    ink_left, ink_top, ink_right, ink_bottom = bounds(luma[top:bottom, left:right] > 200)
    bearing = 0.1 * FONT_PX  # glyphs stand a little inside their advance
    assert abs(ink_left - 0.26 * FONT_PX) <= bearing
    assert abs(right - left - ink_right - 0.26 * FONT_PX) <= bearing
    assert abs(left - 0.05 * FRAME_W) <= 2
    assert ink_top > 0.07 * FONT_PX - 2  # some padding above the tallest glyph
    assert bottom - top - ink_bottom > 0.07 * FONT_PX - 2


def test_padding_and_a_border_radius_can_be_set(tmp_path: Path) -> None:
    luma = still(
        tmp_path,
        {**CAPTION, "background_x_padding": "100%", "background_y_padding": "40%",
         "background_border_radius": "50%"},
    )  # fmt: skip
    left, top, right, bottom = bounds(luma < DARK)
    radius = round(0.5 * FONT_PX)
    ink_left = bounds(luma[top + radius : bottom - radius, left:right] > 200)[0]
    assert abs(ink_left - FONT_PX) <= 0.1 * FONT_PX
    assert bottom - top > (1 + 2 * 0.4) * FONT_PX
    corner = luma[top : top + 8, left : left + 8]
    assert (corner > WHITE_FRAME).all()  # rounded off
    middle = (top + bottom) // 2
    assert luma[middle, left + 2] < DARK  # the left edge is straight halfway down


def test_a_text_without_width_or_height_is_centred_on_its_point(tmp_path: Path) -> None:
    luma = still(tmp_path, {**CAPTION, "x": "30%", "y": "40%", "width": None})
    left, top, right, bottom = bounds(luma < DARK)
    assert abs((left + right) / 2 - 0.3 * FRAME_W) <= 4
    assert abs((top + bottom) / 2 - 0.4 * FRAME_H) <= 4


def test_alignment_defaults_to_the_top_left_of_a_fixed_box(tmp_path: Path) -> None:
    box = {"x": "50%", "y": "50%", "width": "80%", "height": "20%"}
    luma = still(tmp_path, {"type": "text", "text": "Hi", "font_size": 80, **box})
    left, top, _, _ = bounds(luma < 128)  # black glyphs (the default fill colour)
    assert left - 0.1 * FRAME_W < 20
    assert top - 0.4 * FRAME_H < 40


def test_without_a_font_size_the_text_grows_to_its_width_up_to_the_maximum(
    tmp_path: Path,
) -> None:
    word = {"type": "text", "text": "Solar", "y": "30%", "width": "90%", "fill_color": "#000000"}
    grown = bounds(still(tmp_path, word) < 128)
    capped = bounds(still(tmp_path, {**word, "font_size_maximum": "5 vmin"}) < 128)
    assert grown[2] - grown[0] > 0.8 * FRAME_W  # fills the element's width
    assert capped[3] - capped[1] < 0.05 * FRAME_W  # no taller than 5 vmin
    narrow = {**word, "width": "5%"}  # "Solar" fits 54 px only at ~20 px
    shrunk = bounds(still(tmp_path, narrow) < 128)
    held = bounds(still(tmp_path, {**narrow, "font_size_minimum": "5 vmin"}) < 128)
    assert shrunk[3] - shrunk[1] < 0.03 * FRAME_W  # one small line
    assert held[3] - held[1] > 2 * 0.05 * FRAME_W  # 54 px letters, wrapped between them


def test_a_highlighted_caption_has_one_even_background_behind_its_words(
    tmp_path: Path, media: Path
) -> None:
    captions = {
        "type": "text", "transcript_source": "Voice", "transcript_effect": "highlight",
        "y": "50%", "font_size": "6 vmin", "fill_color": "#ffffff",
        "background_color": "rgba(0,0,0,0.6)",
    }  # fmt: skip
    voice = {"name": "Voice", "type": "audio", "source": str(media / "voice.wav")}
    luma = still(tmp_path, voice, captions, snapshot_time=0.7)  # "Hello" highlighted
    left, top, right, bottom = bounds(luma < DARK)
    assert abs((top + bottom) / 2 - FRAME_H / 2) <= 0.1 * FONT_PX  # centred on y
    above_words = luma[top + 1 : top + 4, left + 2 : right - 2]  # padding: no glyph reaches
    assert abs(above_words.mean() - 102) <= 6  # 60 % black over white
    assert above_words.max() - above_words.min() <= 6  # no darker stripe between the words
    assert right - left < 0.8 * FRAME_W
