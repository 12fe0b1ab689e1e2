"""RenderScript templates: the validated subset, built-in templates, modifications, repeats.

Pure and fast: no media is touched and nothing is rendered (the other tests of this
folder show what the engine makes of a template).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from autoclip_core.render.renderscript import (
    AudioElement,
    CompositionElement,
    RenderScript,
    TemplateError,
    TextElement,
    json_path,
    parse_render_script,
)
from autoclip_core.render.templates import (
    BUILTIN_TEMPLATES,
    apply_modifications,
    build_render_script,
    builtin_template_path,
    find_element,
    load_template,
    repeat_element,
)

MINIMAL: dict[str, Any] = {
    "width": 270,
    "height": 480,
    "elements": [
        {"name": "Bg", "type": "image", "source": "bg.png"},
        {"name": "Caption", "type": "text", "text": "Hello"},
    ],
}


def with_top(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(MINIMAL), **changes}


def with_element(element: dict[str, Any]) -> dict[str, Any]:
    """MINIMAL plus ``element`` as ``elements[2]``."""
    template = copy.deepcopy(MINIMAL)
    template["elements"].append(element)
    return template


def text(**props: Any) -> dict[str, Any]:
    return {"type": "text", "text": "x", **props}


def animated(**animation: Any) -> dict[str, Any]:
    return text(animations=[{"type": "fade", **animation}])


def element(data: dict[str, Any], name: str) -> dict[str, Any]:
    found = find_element(data, name)
    assert found is not None, name
    return found


# ---- the model --------------------------------------------------------------------------


def test_a_minimal_template_gets_creatomates_defaults() -> None:
    script = parse_render_script(MINIMAL)
    assert isinstance(script, RenderScript)
    assert (script.output_format, script.frame_rate, script.fill_color) == ("mp4", 30, "#000000")
    assert script.duration is None
    assert script.snapshot_time is None
    image, caption = script.elements
    assert (image.type, image.fit, image.z_index) == ("image", "cover", 0)
    assert isinstance(caption, TextElement)
    assert (caption.font_family, caption.font_weight) == ("NanumGothic", "400")


def test_a_text_gets_creatomates_documented_text_defaults() -> None:
    """Unset width and height (fit the text), top-left alignment, black, 115 % line height,
    auto font size between 1 and 100 vmin, background padding 26 % / 7 % of the font size."""
    caption = parse_render_script(MINIMAL).elements[1]
    assert isinstance(caption, TextElement)
    assert (caption.width, caption.height, caption.font_size) == (None, None, None)
    assert (caption.x_alignment, caption.y_alignment) == ("0%", "0%")
    assert (caption.fill_color, caption.line_height) == ("#000000", "115%")
    assert (caption.font_size_minimum, caption.font_size_maximum) == ("1 vmin", "100 vmin")
    assert (caption.background_color, caption.background_x_padding) == (None, "26%")
    assert (caption.background_y_padding, caption.background_border_radius) == ("7%", 0)


def test_every_supported_property_validates() -> None:
    template = {
        "output_format": "mp4", "width": 1080, "height": 1920, "frame_rate": 25,
        "duration": 12.5, "fill_color": "rgba(11, 16, 32, 0.5)", "snapshot_time": 1,
        "elements": [
            {"name": "V", "type": "video", "track": 1, "time": 0, "duration": "media",
             "source": "https://example.com/v.mp4", "fit": "contain", "volume": "80%",
             "audio_fade_in": 0.5, "audio_fade_out": 1, "trim_start": 2, "trim_duration": 3,
             "loop": True, "x": "50%", "y": "50vh", "width": "100vw", "height": "1920px",
             "x_anchor": "50%", "y_anchor": 50, "z_index": -1, "opacity": "90%"},
            {"name": "A", "type": "audio", "source": "a.wav", "duck_under": "V",
             "volume": 30},
            {"type": "shape", "path": "M 0 0 L 100 0 L 50 100 Z", "fill_color": "#fff",
             "stroke_color": "#000000ff", "stroke_width": "1 vmin"},
            {"type": "composition", "fill_color": "transparent",
             "animations": [{"type": "scale", "start_scale": "100%", "end_scale": 120,
                             "easing": "quadratic-in-out"}],
             "elements": [{"type": "image", "source": "i.png"}]},
            {"type": "text", "text": "안녕하세요", "font_family": "NanumGothic",
             "font_size": "6 vmin", "font_weight": 700, "background_color": "black",
             "font_size_minimum": "2 vmin", "font_size_maximum": 90,
             "background_x_padding": "50%", "background_y_padding": "12px",
             "background_border_radius": "1 vmin",
             "line_height": "120%", "x_alignment": "0%", "y_alignment": 100,
             "transcript_source": "A", "transcript_effect": "karaoke",
             "transcript_split": "word", "transcript_maximum_length": 20,
             "transcript_color": "#ffd400",
             "animations": [
                 {"type": "slide", "time": "end", "duration": 0.4, "direction": "270°",
                  "distance": "4 vh", "easing": "cubic-in-out"},
                 {"type": "fade", "time": 1.5, "duration": 0.3, "transition": True},
             ]},
        ],
    }  # fmt: skip
    script = parse_render_script(template)
    assert isinstance(script.elements[1], AudioElement)
    assert script.elements[1].duck_under == "V"
    assert isinstance(script.elements[3], CompositionElement)
    assert script.elements[3].elements[0].type == "image"


REJECTED = [
    pytest.param(
        with_top(webhook_url="https://example.com"),
        "webhook_url",
        "not supported",
        id="unsupported-top-level-property",
    ),
    pytest.param(
        with_element(text(blur_radius=3)),
        "elements[2].blur_radius",
        "not supported",
        id="unsupported-element-property",
    ),
    pytest.param(
        with_element(text(source="x.png")),
        "elements[2].source",
        "not supported",
        id="property-of-another-element-type",
    ),
    pytest.param(
        with_element({"type": "composition", "elements": [text(), text(shadow_color="#000")]}),
        "elements[2].elements[1].shadow_color",
        "not supported",
        id="unsupported-property-in-a-composition",
    ),
    pytest.param(
        with_element(animated(reversed=True)),
        "elements[2].animations[0].reversed",
        "not supported",
        id="unsupported-animation-property",
    ),
    pytest.param(
        with_element({"type": "lottie"}),
        "elements[2].type",
        "unsupported element type; use one of image, video, audio, text, shape, composition",
        id="unknown-element-type",
    ),
    pytest.param(
        with_element({"type": "composition", "elements": [{"type": "lottie"}]}),
        "elements[2].elements[0].type",
        "unsupported element type",
        id="unknown-element-type-in-a-composition",
    ),
    pytest.param(
        with_element({"text": "typeless"}),
        "elements[2].type",
        "element needs a 'type'",
        id="missing-element-type",
    ),
    pytest.param(with_top(width=271), "width", "must be even", id="odd-width"),
    pytest.param(with_top(height=481), "height", "must be even", id="odd-height"),
    pytest.param(with_top(width=8), "width", "greater than or equal to 16", id="tiny-width"),
    pytest.param(with_top(width=8192), "width", "less than or equal to 4096", id="huge-width"),
    pytest.param(with_top(frame_rate=0), "frame_rate", "greater than 0", id="zero-frame-rate"),
    pytest.param(
        with_top(frame_rate=120), "frame_rate", "less than or equal to 60", id="high-frame-rate"
    ),
    pytest.param(with_top(output_format="gif"), "output_format", "'mp4'", id="gif-output"),
    pytest.param(with_top(duration=-3), "duration", "greater than 0", id="negative-video-duration"),
    pytest.param(
        with_top(snapshot_time=-1),
        "snapshot_time",
        "greater than or equal to 0",
        id="negative-snapshot-time",
    ),
    pytest.param(with_top(elements=[]), "elements", "at least 1 item", id="no-elements"),
    pytest.param(with_top(fill_color="#12345"), "fill_color", "is not a colour", id="bad-hex"),
    pytest.param(
        with_top(fill_color="rgb(300, 0, 0)"), "fill_color", "channels go to 255", id="rgb-over-255"
    ),
    pytest.param(
        with_top(fill_color="rgba(0, 0, 0, 2)"), "fill_color", "alpha to 1", id="alpha-over-1"
    ),
    pytest.param(with_top(fill_color="blue"), "fill_color", "is not a colour", id="css-name"),
    pytest.param(
        with_element(text(fill_color="#ggg")),
        "elements[2].fill_color",
        "is not a colour",
        id="bad-text-colour",
    ),
    pytest.param(
        with_element(text(stroke_color="red")),
        "elements[2].stroke_color",
        "is not a colour",
        id="bad-stroke-colour",
    ),
    pytest.param(
        with_element(text(background_color="rgba(0,0,0)x")),
        "elements[2].background_color",
        "is not a colour",
        id="bad-background-colour",
    ),
    pytest.param(
        with_element(text(transcript_color="yellowish")),
        "elements[2].transcript_color",
        "is not a colour",
        id="bad-transcript-colour",
    ),
    pytest.param(
        with_element({"type": "composition", "fill_color": "#0b102"}),
        "elements[2].fill_color",
        "is not a colour",
        id="bad-composition-colour",
    ),
    pytest.param(
        with_element(text(x="12 furlongs")), "elements[2].x", "is not a length", id="bad-x"
    ),
    pytest.param(
        with_element(text(width="wide")), "elements[2].width", "is not a length", id="bad-width"
    ),
    pytest.param(
        with_element(text(font_size="big")),
        "elements[2].font_size",
        "is not a length",
        id="bad-font-size",
    ),
    pytest.param(
        with_element(text(font_size_maximum="huge")),
        "elements[2].font_size_maximum",
        "is not a length",
        id="bad-font-size-maximum",
    ),
    pytest.param(
        with_element(text(background_x_padding="wide")),
        "elements[2].background_x_padding",
        "is not a length",
        id="bad-background-padding",
    ),
    pytest.param(
        with_element(text(background_border_radius="round")),
        "elements[2].background_border_radius",
        "is not a length",
        id="bad-background-border-radius",
    ),
    pytest.param(
        with_element(text(background_align_threshold="10%")),
        "elements[2].background_align_threshold",
        "not supported",
        id="unsupported-background-align-threshold",
    ),
    pytest.param(
        with_element(text(stroke_width="1em")),
        "elements[2].stroke_width",
        "is not a length",
        id="bad-stroke-width",
    ),
    pytest.param(
        with_element(text(animations=[{"type": "slide", "distance": "far"}])),
        "elements[2].animations[0].distance",
        "is not a length",
        id="bad-slide-distance",
    ),
    pytest.param(
        with_element(text(opacity="half")),
        "elements[2].opacity",
        "is not a percentage",
        id="bad-opacity",
    ),
    pytest.param(
        with_element({"type": "audio", "source": "a.wav", "volume": "loud"}),
        "elements[2].volume",
        "is not a percentage",
        id="bad-volume",
    ),
    pytest.param(
        with_element(text(animations=[{"type": "scale", "end_scale": "2x"}])),
        "elements[2].animations[0].end_scale",
        "is not a percentage",
        id="bad-scale",
    ),
    pytest.param(
        with_element(text(duration=-1)),
        "elements[2].duration",
        "duration must be positive",
        id="negative-duration",
    ),
    pytest.param(
        with_element(text(duration=0)),
        "elements[2].duration",
        "duration must be positive",
        id="zero-duration",
    ),
    pytest.param(
        with_element(text(time=-0.5)),
        "elements[2].time",
        "greater than or equal to 0",
        id="negative-time",
    ),
    pytest.param(
        with_element(text(track=0)),
        "elements[2].track",
        "greater than or equal to 1",
        id="track-zero",
    ),
    pytest.param(
        with_element(animated(easing="bounce")),
        "elements[2].animations[0].easing",
        "Input should be 'linear'",
        id="unknown-easing",
    ),
    pytest.param(
        with_element(text(animations=[{"type": "spin"}])),
        "elements[2].animations[0].type",
        "Input should be 'fade', 'slide' or 'scale'",
        id="unknown-animation",
    ),
    pytest.param(
        with_element(animated(duration=0)),
        "elements[2].animations[0].duration",
        "greater than 0",
        id="zero-animation-duration",
    ),
    pytest.param(
        with_element(text(animations=[{"type": "slide", "direction": "north"}])),
        "elements[2].animations[0].direction",
        "is not an angle",
        id="bad-direction",
    ),
    pytest.param(
        with_element(text(font_weight="500")),
        "elements[2].font_weight",
        "'400', '700'",
        id="unsupported-font-weight",
    ),
    pytest.param(
        with_element({"type": "image", "source": "a.png", "fit": "fill"}),
        "elements[2].fit",
        "'cover' or 'contain'",
        id="unsupported-fit",
    ),
    pytest.param(
        with_element({"type": "image", "source": ""}),
        "elements[2].source",
        "at least 1",
        id="empty-source",
    ),
    pytest.param(
        with_element({"type": "video", "source": "v.mp4", "duck_under": "Voice"}),
        "elements[2].duck_under",
        "not supported",
        id="duck-under-on-video",
    ),
    pytest.param(
        with_element({"type": "audio", "source": "a.wav", "audio_fade_out": -1}),
        "elements[2].audio_fade_out",
        "greater than or equal to 0",
        id="negative-fade",
    ),
    pytest.param(
        with_element({"type": "audio", "source": "a.wav", "trim_duration": 0}),
        "elements[2].trim_duration",
        "greater than 0",
        id="zero-trim-duration",
    ),
    pytest.param(
        with_element(text(transcript_effect="typewriter")),
        "elements[2].transcript_effect",
        "'highlight', 'karaoke' or 'fade'",
        id="unknown-transcript-effect",
    ),
    pytest.param(
        with_element(text(transcript_split="sentence")),
        "elements[2].transcript_split",
        "'word' or 'line'",
        id="unknown-transcript-split",
    ),
    pytest.param(
        with_element(text(transcript_maximum_length=0)),
        "elements[2].transcript_maximum_length",
        "greater than or equal to 1",
        id="zero-transcript-maximum-length",
    ),
]


@pytest.mark.parametrize(("template", "path", "message"), REJECTED)
def test_a_template_outside_the_subset_is_rejected_naming_the_json_path(
    template: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(TemplateError) as raised:
        parse_render_script(template)
    assert raised.value.path == path
    assert message in raised.value.message
    assert str(raised.value) == f"{path}: {raised.value.message}"


@pytest.mark.parametrize(
    ("template", "path"),
    [
        pytest.param(with_element(text(duration="forever")), "elements[2].duration",
                     id="duration-neither-seconds-nor-media"),
        pytest.param(with_element(text(x=[1])), "elements[2].x", id="length-of-the-wrong-type"),
        pytest.param(with_element(animated(time="middle")), "elements[2].animations[0].time",
                     id="animation-time-neither-start-end-nor-seconds"),
    ],
)  # fmt: skip
def test_a_bad_value_of_a_union_typed_property_is_reported_at_the_property(
    template: dict[str, Any], path: str
) -> None:
    with pytest.raises(TemplateError) as raised:
        parse_render_script(template)
    assert raised.value.path == path


SUPPORTED_COLOURS = ["#abc", "#AABBCC", "#aabbcc80", "rgb(1, 2, 3)", "rgba(255,255,255,0.25)",
                     "transparent", "black", "white"]  # fmt: skip


@pytest.mark.parametrize("colour", SUPPORTED_COLOURS)
def test_supported_colour_spellings_validate(colour: str) -> None:
    assert parse_render_script(with_top(fill_color=colour)).fill_color == colour


@pytest.mark.parametrize("value", [12, 12.5, "12px", "50%", "4 vh", "100vw", "6 vmin", "1vmax"])
def test_supported_length_units_validate(value: float | str) -> None:
    parse_render_script(with_element(text(x=value, font_size=value)))


def test_a_template_that_is_not_an_object_is_rejected_without_a_path() -> None:
    with pytest.raises(TemplateError) as raised:
        parse_render_script([MINIMAL])
    assert raised.value.path == ""
    assert "JSON object" in str(raised.value)


def test_only_the_first_problem_is_reported() -> None:
    template = with_top(width=271, height=481)
    with pytest.raises(TemplateError) as raised:
        parse_render_script(template)
    assert raised.value.path == "width"


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("width",), "width"),
        (("elements", 2, "image", "x"), "elements[2].x"),
        (("elements", 0, "text", "text"), "elements[0].text"),
        (("elements", 1, "composition", "elements", 3, "audio", "volume"),
         "elements[1].elements[3].volume"),
        (("elements", 0, "text", "animations", 1, "easing"), "elements[0].animations[1].easing"),
    ],
)  # fmt: skip
def test_json_path_drops_the_element_type_tags_of_pydantic_locations(
    loc: tuple[int | str, ...], path: str
) -> None:
    assert json_path(loc) == path


# ---- built-in templates and template files ------------------------------------------------

BUILTIN_SIZES = {"short": (1080, 1920), "long": (1920, 1080), "square": (1080, 1080)}


@pytest.mark.parametrize("name", BUILTIN_TEMPLATES)
def test_builtin_templates_validate_at_their_sizes(name: str) -> None:
    script = parse_render_script(load_template(name))
    assert (script.width, script.height) == BUILTIN_SIZES[name]
    assert script.frame_rate == 30


@pytest.mark.parametrize("name", BUILTIN_TEMPLATES)
def test_builtin_templates_have_title_scene_captions_ducked_faded_music_and_end_card(
    name: str,
) -> None:
    data = load_template(name)
    for name in ("Title-Card", "Title", "Title-Background", "Scene", "End-Card", "End-Text",
                 "End-Background", "Narration"):  # fmt: skip
        element(data, name)
    assert {a["type"] for a in element(data, "Scene")["animations"]} == {"scale", "fade"}
    music = element(data, "Music")
    assert music["duck_under"] == "Narration"
    assert music["loop"] is True
    assert music["audio_fade_out"] > 0
    captions = element(data, "Captions")
    assert captions["transcript_source"] == "Narration"
    assert captions["transcript_effect"] == "highlight"
    assert captions["transcript_color"] == "#ffd400"


def test_a_template_file_loads_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(MINIMAL), encoding="utf-8")
    assert load_template(path) == MINIMAL
    assert load_template(str(path)) == MINIMAL


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "template file not found"),
        ("{not json", "is not JSON"),
        ("[1, 2]", "a template is a JSON object"),
        (b"\xff\xfe\x00", "cannot read template"),
    ],
)
def test_a_template_file_that_is_missing_or_not_a_json_object_is_a_template_error(
    content: str | bytes | None, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "t.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(TemplateError, match=message):
        load_template(path)


def test_an_unknown_builtin_name_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="no built-in template 'tall'"):
        builtin_template_path("tall")


# ---- modifications ------------------------------------------------------------------------

NESTED: dict[str, Any] = {
    "width": 270,
    "height": 480,
    "elements": [
        {"name": "Card", "type": "composition", "duration": 2, "elements": [
            {"name": "Title", "type": "text", "text": "Old"},
            {"name": "Logo", "type": "image", "source": "old.png"},
        ]},
        {"name": "Voice", "type": "audio", "source": "old.wav"},
        {"name": "Box", "type": "shape"},
        {"name": "v1.2", "type": "text", "text": "dotted"},
    ],
}  # fmt: skip


def test_a_modification_sets_the_named_elements_property() -> None:
    data = apply_modifications(NESTED, {"Card.duration": 3.5, "Box.fill_color": "#ff0000"})
    assert element(data, "Card")["duration"] == 3.5
    assert element(data, "Box")["fill_color"] == "#ff0000"


def test_a_bare_element_name_sets_a_texts_text_and_a_medias_source() -> None:
    data = apply_modifications(NESTED, {"Title": "New", "Logo": "new.png", "Voice": "v.wav"})
    assert element(data, "Title")["text"] == "New"
    assert element(data, "Logo")["source"] == "new.png"
    assert element(data, "Voice")["source"] == "v.wav"


def test_modifications_reach_elements_inside_compositions_and_names_with_dots() -> None:
    data = apply_modifications(NESTED, {"Title.fill_color": "#00ff00", "v1.2": "plain",
                                        "v1.2.font_size": 20})  # fmt: skip
    assert data["elements"][0]["elements"][0]["fill_color"] == "#00ff00"
    assert data["elements"][3]["text"] == "plain"
    assert data["elements"][3]["font_size"] == 20


def test_modifications_leave_the_template_unchanged() -> None:
    before = copy.deepcopy(NESTED)
    apply_modifications(NESTED, {"Title": "New", "Card.duration": 9})
    assert before == NESTED


@pytest.mark.parametrize(
    ("key", "path", "message"),
    [
        ("Nope.text", "modifications['Nope.text']", "no element named 'Nope"),
        ("Nope", "modifications['Nope']", "no element named 'Nope'"),
        ("Box", "modifications['Box']", "say which property of 'Box' to set"),
        ("Card", "modifications['Card']", "say which property of 'Card' to set"),
    ],
)
def test_a_modification_naming_a_missing_element_or_no_property_is_a_template_error(
    key: str, path: str, message: str
) -> None:
    with pytest.raises(TemplateError) as raised:
        apply_modifications(NESTED, {key: "x"})
    assert raised.value.path == path
    assert message in raised.value.message


def test_a_bad_modification_value_is_reported_at_the_elements_json_path() -> None:
    with pytest.raises(TemplateError) as raised:
        build_render_script("short", {"Title.fill_color": "bright"})
    assert raised.value.path == "elements[0].elements[1].fill_color"


def test_build_render_script_fills_a_builtin_by_name_or_a_template_dict() -> None:
    by_name = build_render_script("square", {"Title": "Hello", "Music.volume": "20%"})
    title = by_name.elements[0].elements[1]  # type: ignore[union-attr]
    assert isinstance(title, TextElement)
    assert title.text == "Hello"
    assert by_name.elements[4].volume == "20%"  # type: ignore[union-attr]
    by_dict = build_render_script(NESTED, {"Title": "Hi"})
    assert by_dict.elements[0].elements[0].text == "Hi"  # type: ignore[union-attr]
    assert build_render_script(NESTED) == parse_render_script(NESTED)


# ---- repeated slots -------------------------------------------------------------------------


def test_repeating_an_element_puts_numbered_copies_in_its_place() -> None:
    data = repeat_element(load_template("short"), "Scene", 3)
    names = [e.get("name") for e in data["elements"]]
    assert names[:5] == ["Title-Card", "Scene-1", "Scene-2", "Scene-3", "End-Card"]
    assert find_element(data, "Scene") is None
    copies = data["elements"][1:4]
    assert all(c["source"] == "scene.png" and c["track"] == 1 for c in copies)
    copies[0]["animations"][0]["end_scale"] = "200%"
    assert copies[1]["animations"][0]["end_scale"] == "112%"  # deep copies


def test_repeated_copies_are_addressed_by_their_numbered_names() -> None:
    data = repeat_element(load_template("long"), "Scene", 2)
    filled = apply_modifications(data, {"Scene-2.source": "b.png", "Scene-2.time": 4})
    assert filled["elements"][2]["source"] == "b.png"
    assert filled["elements"][2]["time"] == 4
    assert filled["elements"][1]["source"] == "scene.png"


def test_repeating_works_inside_compositions_and_leaves_the_template_unchanged() -> None:
    before = copy.deepcopy(NESTED)
    data = repeat_element(NESTED, "Logo", 2)
    assert [e["name"] for e in data["elements"][0]["elements"]] == ["Title", "Logo-1", "Logo-2"]
    assert before == NESTED


@pytest.mark.parametrize(
    ("name", "count", "message"),
    [("Scene", 0, "cannot repeat 'Scene' 0 times"), ("Nope", 2, "no element named 'Nope'")],
)
def test_repeating_a_missing_element_or_zero_times_is_a_template_error(
    name: str, count: int, message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        repeat_element(load_template("short"), name, count)
