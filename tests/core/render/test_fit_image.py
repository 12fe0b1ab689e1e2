"""Image files fitted into an element's box: upright, exact size, alpha only where it exists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autoclip_core.render.stills import fit_image

BLUE, RED = (0, 0, 255), (255, 0, 0)
EXIF_ORIENTATION = 0x0112


def left_blue_right_red(path: Path, size: tuple[int, int] = (80, 40), **save: object) -> Path:
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (0, 0, size[0] // 2, size[1]))
    image.save(path, **save)
    return path


def close(pixel: tuple[int, ...], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 8 for a, b in zip(pixel, colour, strict=False))


def test_a_photo_taken_sideways_is_fitted_upright(tmp_path: Path) -> None:
    """EXIF orientation 6: the camera stored the picture turned; viewers rotate it 90° CW."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    photo = left_blue_right_red(tmp_path / "photo.jpg", exif=exif.tobytes(), quality=95)
    fitted = fit_image(photo, (40, 80), "cover")
    assert fitted.size == (40, 80)
    assert fitted.mode == "RGB"
    assert close(fitted.getpixel((20, 10)), BLUE)  # the stored left half is now on top
    assert close(fitted.getpixel((20, 70)), RED)


def test_cover_crops_an_opaque_image_to_the_box_and_keeps_it_rgb(tmp_path: Path) -> None:
    fitted = fit_image(left_blue_right_red(tmp_path / "wide.png"), (40, 40), "cover")
    assert fitted.size == (40, 40)
    assert fitted.mode == "RGB"
    assert close(fitted.getpixel((5, 20)), BLUE)
    assert close(fitted.getpixel((35, 20)), RED)


def test_contain_letterboxes_with_transparent_bars(tmp_path: Path) -> None:
    fitted = fit_image(left_blue_right_red(tmp_path / "wide.png"), (40, 40), "contain")
    assert fitted.size == (40, 40)
    assert fitted.mode == "RGBA"
    assert fitted.getpixel((20, 2))[3] == 0  # the bar above the 40x20 picture
    assert fitted.getpixel((5, 20)) == (*BLUE, 255)


def test_an_image_with_transparency_keeps_its_alpha(tmp_path: Path) -> None:
    image = Image.new("RGBA", (40, 40), (*RED, 255))
    image.paste((0, 0, 0, 0), (0, 0, 20, 40))
    image.save(tmp_path / "half.png")
    fitted = fit_image(tmp_path / "half.png", (40, 40), "cover")
    assert fitted.mode == "RGBA"
    assert fitted.getpixel((5, 20))[3] == 0
    assert fitted.getpixel((35, 20)) == (*RED, 255)


def test_a_zoom_source_drawn_smaller_shows_exactly_what_its_box_shows(tmp_path: Path) -> None:
    """A 1080x1920 box's zoom source is 1059x1882, a hair out of the box's proportions: the
    photo is cropped for the box, then drawn at the source's size (one resampling)."""
    photo = np.zeros((1200, 1600), np.uint8)
    photo[:, 1130:1133] = 255  # a vertical line centred at x = 1131.5, near the crop's edge
    Image.fromarray(photo).convert("RGB").save(tmp_path / "line.png")
    box, source = (1080, 1920), (1059, 1882)
    crop_left = (1600 - 1200 * box[0] / box[1]) / 2  # cover: the box's shape, centred
    wanted = (1131.5 - crop_left) * box[1] / 1200 * source[0] / box[0] - 0.5
    fitted = fit_image(tmp_path / "line.png", source, "cover", shape=box)
    row = np.asarray(fitted.convert("L"), float)[900]
    centre = (row * np.arange(len(row))).sum() / row.sum()
    assert centre == pytest.approx(wanted, abs=0.05)  # cropped for 1059x1882: 0.2 px off
