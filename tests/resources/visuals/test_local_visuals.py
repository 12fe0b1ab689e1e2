from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageDraw

from autoclip_core.render.text_layout import Font
from resources.errors import VisualsError
from resources.visuals.base import SceneCard
from resources.visuals.local import (
    FREE_BOTTOM,
    HEADLINE_WIDTH,
    LocalVisuals,
    layout_card,
    load_font,
)

LONG_ENGLISH = " ".join(
    ["Regulators approved an unprecedented nationwide programme of autonomous crop-spraying"] * 6
)
LONG_KOREAN = "농림축산식품부는 내년부터 전국 농가를 대상으로 자율비행 방제 드론 보급 사업을 " * 6
UNBROKEN = "Supercalifragilisticexpialidocious" * 8

FRAMES = [(1080, 1920), (1920, 1080), (1080, 1080)]


def make_card(**changes: Any) -> SceneCard:
    fields: dict[str, Any] = {
        "headline": "Farm drones cut fertiliser use by a third",
        "query": "agricultural drone spraying a field",
        "keywords": ["drone", "farm"],
        "title": "How drones are changing farming",
        "language": "en",
        "index": 2,
        "total": 5,
        "width": 540,
        "height": 960,
    }
    fields.update(changes)
    return SceneCard(**fields)


def render(visuals: LocalVisuals, card: SceneCard, path: Path) -> Image.Image:
    visuals.scene_image(card, path)
    with Image.open(path) as image:
        return image.convert("RGB")


def solid_image(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (320, 240), colour).save(path)
    return path


def glyph_bitmap(font: Font, text: str) -> bytes:
    canvas = Image.new("L", (200, 120), 0)
    ImageDraw.Draw(canvas).text((10, 10), text, font=font, fill=255)
    return canvas.tobytes()


def is_mostly(pixel: tuple[int, int, int], channel: int) -> bool:
    return pixel[channel] > 150 and all(v < 90 for i, v in enumerate(pixel) if i != channel)


@pytest.mark.parametrize(("width", "height"), FRAMES)
def test_generated_card_has_the_exact_requested_size(
    tmp_path: Path, width: int, height: int
) -> None:
    out = tmp_path / "card.png"
    result = LocalVisuals().scene_image(make_card(width=width, height=height), out)

    assert result.origin == "generated"
    assert result.matched_file is None
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.size == (width, height)


def test_jpg_out_path_gets_a_jpeg_of_the_exact_size(tmp_path: Path) -> None:
    out = tmp_path / "card.jpg"
    LocalVisuals().scene_image(make_card(), out)

    with Image.open(out) as image:
        assert (image.format, image.size) == ("JPEG", (540, 960))


def test_headline_font_has_real_hangul_glyphs_not_tofu() -> None:
    font = load_font(64, bold=True)
    notdef = glyph_bitmap(font, "\uffff")
    syllables = {text: glyph_bitmap(font, text) for text in ("가", "나", "한", "글")}

    assert all(bitmap != notdef for bitmap in syllables.values())
    assert len(set(syllables.values())) == len(syllables)


def test_different_hangul_headlines_draw_different_cards(tmp_path: Path) -> None:
    visuals = LocalVisuals()
    first = render(visuals, make_card(headline="가나다라 마바", language="ko"), tmp_path / "a.png")
    second = render(visuals, make_card(headline="사아자차 카타", language="ko"), tmp_path / "b.png")

    assert ImageChops.difference(first, second).getbbox() is not None


@pytest.mark.parametrize(("width", "height"), FRAMES)
@pytest.mark.parametrize("headline", [LONG_ENGLISH, LONG_KOREAN, UNBROKEN])
def test_long_headline_stays_inside_the_frame_and_above_the_caption_zone(
    tmp_path: Path, width: int, height: int, headline: str
) -> None:
    visuals = LocalVisuals()
    blank = render(visuals, make_card(headline="", width=width, height=height), tmp_path / "0.png")
    card = make_card(headline=headline, width=width, height=height)
    full = render(visuals, card, tmp_path / "1.png")

    # The background does not depend on the headline: the difference is the text and its
    # soft shadow (which may reach a couple of percent past the glyphs).
    left, top, right, bottom = ImageChops.difference(blank, full).getbbox() or (0, 0, 0, 0)
    side = (1 - HEADLINE_WIDTH) / 2 * width
    shadow = 0.02 * min(width, height)
    assert left >= side - shadow
    assert right <= width - side + shadow
    assert top > 0
    assert bottom <= height * (1 - FREE_BOTTOM) + shadow

    headline_lines = layout_card(card).headline
    assert headline_lines
    for line in headline_lines:
        assert line.font.getlength(line.text) <= width * HEADLINE_WIDTH


def test_short_headline_keeps_the_big_font() -> None:
    short = layout_card(make_card(headline="Drones"))
    long = layout_card(make_card(headline=LONG_ENGLISH))

    assert short.headline[0].font.size > long.headline[0].font.size


@pytest.mark.parametrize("name", ["card.png", "card.jpg"])
def test_same_card_gives_identical_bytes_twice(tmp_path: Path, name: str) -> None:
    card = make_card(headline="서울시, 심야 자율주행 버스 확대", language="ko")
    LocalVisuals().scene_image(card, tmp_path / "first" / name)
    LocalVisuals().scene_image(card, tmp_path / "second" / name)

    assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()


def test_scenes_of_one_video_differ_from_each_other(tmp_path: Path) -> None:
    visuals = LocalVisuals()
    first = render(visuals, make_card(index=1), tmp_path / "1.png")
    second = render(visuals, make_card(index=2), tmp_path / "2.png")

    assert ImageChops.difference(first, second).getbbox() is not None


def test_library_match_picks_the_file_named_after_the_keywords(tmp_path: Path) -> None:
    library = tmp_path / "library"
    (library / "nested").mkdir(parents=True)
    solid_image(library / "city-night.png", (20, 20, 200))
    farm = solid_image(library / "nested" / "farm-drone.jpg", (20, 200, 20))

    out = tmp_path / "card.png"
    result = LocalVisuals(library_dir=str(library)).scene_image(make_card(), out)

    assert result.origin == "library"
    assert result.matched_file == str(farm)
    with Image.open(out) as image:
        assert image.size == (540, 960)
        assert is_mostly(image.convert("RGB").getpixel((270, 950)), channel=1)


def test_plural_query_words_match_singular_file_names(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    tractor = solid_image(library / "Tractor_Field.webp", (200, 20, 20))
    card = make_card(keywords=[], query="Tractors ploughing the fields")

    result = LocalVisuals(library_dir=str(library)).scene_image(card, tmp_path / "card.png")

    assert result.matched_file == str(tractor)


def test_korean_keyword_matches_inside_a_file_name(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    solid_image(library / "도심_야경.png", (20, 20, 200))
    drone = solid_image(library / "농업드론_현장.jpg", (20, 200, 20))
    card = make_card(headline="농업용 드론 보급 확대", keywords=["드론이"], query="", language="ko")

    result = LocalVisuals(library_dir=str(library)).scene_image(card, tmp_path / "card.png")

    assert (result.origin, result.matched_file) == ("library", str(drone))


def test_sidecar_tags_make_a_photo_match(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    photo = solid_image(library / "IMG_0001.jpg", (20, 200, 20))
    (library / "IMG_0001.txt").write_text("harvest, Tractor\nautumn", encoding="utf-8")
    card = make_card(keywords=["tractor"], query="")

    result = LocalVisuals(library_dir=str(library)).scene_image(card, tmp_path / "card.png")

    assert result.matched_file == str(photo)


def test_no_library_match_gives_a_generated_card(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    solid_image(library / "city-night.png", (20, 20, 200))

    result = LocalVisuals(library_dir=str(library)).scene_image(make_card(), tmp_path / "c.png")

    assert (result.origin, result.matched_file) == ("generated", None)


def test_missing_library_folder_gives_a_generated_card(tmp_path: Path) -> None:
    visuals = LocalVisuals(library_dir=str(tmp_path / "nowhere"))

    assert visuals.scene_image(make_card(), tmp_path / "card.png").origin == "generated"


def test_corrupt_library_file_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    (library / "farm-drone.jpg").write_bytes(b"not really a jpeg")
    fallback = solid_image(library / "farm.png", (20, 200, 20))

    with caplog.at_level(logging.WARNING):
        result = LocalVisuals(library_dir=str(library)).scene_image(make_card(), tmp_path / "c.png")

    assert result.matched_file == str(fallback)
    assert "farm-drone.jpg" in caplog.text


def test_only_corrupt_matches_give_a_generated_card(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    (library / "farm-drone.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")

    result = LocalVisuals(library_dir=str(library)).scene_image(make_card(), tmp_path / "c.png")

    assert result.origin == "generated"


def test_library_photo_is_centre_cropped_to_cover_the_frame(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    stripes = Image.new("RGB", (600, 200), (200, 20, 20))
    stripes.paste((20, 200, 20), (200, 0, 400, 200))
    stripes.paste((20, 20, 200), (400, 0, 600, 200))
    stripes.save(library / "farm.png")

    out = tmp_path / "card.png"
    LocalVisuals(library_dir=str(library)).scene_image(make_card(), out)

    with Image.open(out) as image:
        bottom_row = [image.convert("RGB").getpixel((x, 950)) for x in (0, 270, 539)]
    assert all(is_mostly(pixel, channel=1) for pixel in bottom_row)


def test_fingerprint_names_the_provider_style_and_library_state(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    visuals = LocalVisuals(library_dir=str(library), style_version="7")
    before = visuals.fingerprint_inputs()

    assert "LocalVisuals" in before
    assert "7" in before
    assert str(library.resolve()) in before
    assert before == visuals.fingerprint_inputs()

    solid_image(library / "farm.png", (20, 200, 20))
    assert visuals.fingerprint_inputs() != before
    assert LocalVisuals().fingerprint_inputs() != before


def test_an_image_that_cannot_be_written_is_a_visuals_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_bytes(b"a file where the folder should be")
    with pytest.raises(VisualsError, match=r"could not write the scene image card\.png"):
        LocalVisuals().scene_image(make_card(), tmp_path / "taken" / "card.png")
