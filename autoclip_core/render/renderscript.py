"""The RenderScript subset we render: Creatomate's JSON template format, validated strictly.

A template that validates here renders locally (``autoclip_core.render.engine``) or on
Creatomate unchanged. Anything outside the subset is rejected with the JSON path of the
offending property (``TemplateError``), before any media is touched. The README has the
table of supported properties; this module is the source of truth for it.

AutoClip extensions (not Creatomate): ``duck_under`` on an audio element names the voice
element it is ducked under (sidechain compression); ``renderer`` at the top chooses who
renders the template (``ffmpeg`` or ``creatomate``). The Creatomate client drops both.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from autoclip_core.render.colors import check_color

LENGTH = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(px|%|vw|vh|vmin|vmax)?\s*$")
ANGLE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(°|deg)?\s*$")

Length = float | str
"""Pixels (a number or ``"12px"``), ``"50%"`` of the parent, or ``vw``/``vh``/``vmin``/``vmax``."""
Percent = float | str
"""``"35%"`` or a plain number meaning percent."""


def percent(value: float | str | None, default: float) -> float:
    """``"35%"`` or ``35`` → 0.35."""
    if value is None:
        return default
    if isinstance(value, str):
        value = float(value.strip().rstrip("%"))
    return value / 100


def length(
    value: float | str | None, parent: float, frame: tuple[int, int], default: float
) -> float:
    """A length in pixels; ``%`` is of ``parent``, ``vw``/``vh``/``vmin``/``vmax`` of the video."""
    if value is None:
        return default
    if isinstance(value, int | float):
        return float(value)
    match = LENGTH.match(value)
    assert match, value  # validated by the model
    number, unit = float(match.group(1)), match.group(2) or "px"
    width, height = frame
    scale = {
        "px": 1.0,
        "%": parent / 100,
        "vw": width / 100,
        "vh": height / 100,
        "vmin": min(width, height) / 100,
        "vmax": max(width, height) / 100,
    }[unit]
    return number * scale


class TemplateError(ValueError):
    """A template outside the supported subset; ``path`` is the JSON path of the problem."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


def _check_length(value: Length | None) -> Length | None:
    if value is None or isinstance(value, int | float):
        return value
    if not LENGTH.match(value):
        raise ValueError(f"{value!r} is not a length (px, %, vw, vh, vmin or vmax)")
    return value


def _check_percent(value: Percent | None) -> Percent | None:
    if value is None or isinstance(value, int | float):
        return value
    if not re.match(r"^\s*-?\d+(?:\.\d+)?\s*%?\s*$", value):
        raise ValueError(f"{value!r} is not a percentage")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Animation(Strict):
    type: Literal["fade", "slide", "scale"]
    time: Literal["start", "end"] | float = "start"
    duration: float | None = Field(
        default=None, gt=0, description="Seconds; omitted: the element's whole duration."
    )
    easing: Literal[
        "linear", "quadratic-in", "quadratic-out", "quadratic-in-out", "cubic-in-out"
    ] = "linear"
    transition: bool = False
    # scale
    start_scale: Percent | None = None
    end_scale: Percent | None = None
    # slide
    direction: str | None = None
    distance: Length | None = None

    _lengths = field_validator("distance")(_check_length)
    _percents = field_validator("start_scale", "end_scale")(_check_percent)

    @field_validator("direction")
    @classmethod
    def _angle(cls, value: str | None) -> str | None:
        if value is not None and not ANGLE.match(value):
            raise ValueError(f"{value!r} is not an angle such as '0°' (left to right)")
        return value


class ElementBase(Strict):
    name: str | None = None
    track: int | None = Field(default=None, ge=1)
    time: float | None = Field(default=None, ge=0)
    duration: float | Literal["media"] | None = None
    x: Length | None = None
    y: Length | None = None
    width: Length | None = None
    height: Length | None = None
    x_anchor: Percent | None = None
    y_anchor: Percent | None = None
    x_alignment: Percent | None = None
    y_alignment: Percent | None = None
    z_index: int = 0
    opacity: Percent | None = None
    animations: list[Animation] = Field(default_factory=list)

    _lengths = field_validator("x", "y", "width", "height")(_check_length)
    _percents = field_validator("x_anchor", "y_anchor", "x_alignment", "y_alignment", "opacity")(
        _check_percent
    )

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: float | str | None) -> float | str | None:
        if isinstance(value, int | float) and value <= 0:
            raise ValueError("duration must be positive")
        return value


class MediaElement(ElementBase):
    source: str = Field(min_length=1)
    fit: Literal["cover", "contain"] = "cover"


class TimedMediaElement(MediaElement):
    volume: Percent | None = None
    audio_fade_in: float | None = Field(default=None, ge=0)
    audio_fade_out: float | None = Field(default=None, ge=0)
    trim_start: float | None = Field(default=None, ge=0)
    trim_duration: float | None = Field(default=None, gt=0)
    loop: bool = False

    _volume = field_validator("volume")(_check_percent)


class ImageElement(MediaElement):
    type: Literal["image"]


class VideoElement(TimedMediaElement):
    type: Literal["video"]


class AudioElement(TimedMediaElement):
    type: Literal["audio"]
    duck_under: str | None = Field(
        default=None, description="AutoClip extension: name of the voice to duck under."
    )


class Stroked(ElementBase):
    fill_color: str | None = None
    stroke_color: str | None = None
    stroke_width: Length | None = None

    _colors = field_validator("fill_color", "stroke_color")(check_color)
    _stroke = field_validator("stroke_width")(_check_length)


class TextElement(Stroked):
    """Creatomate's defaults: ``width``/``height`` unset fit the text; alignment top left;
    black text; ``font_size`` unset is the largest between ``font_size_minimum`` and
    ``font_size_maximum`` that fits; the background sits behind each line, padded by shares
    of the font size. Our default font is NanumGothic (Hangul and Latin), not Aileron."""

    type: Literal["text"]
    text: str = ""
    x_alignment: Percent | None = "0%"
    y_alignment: Percent | None = "0%"
    fill_color: str | None = "#000000"
    font_family: str = "NanumGothic"
    font_size: Length | None = None
    font_size_minimum: Length | None = "1 vmin"
    font_size_maximum: Length | None = "100 vmin"
    font_weight: Literal["400", "700", "normal", "bold", 400, 700] = "400"
    line_height: Percent | None = "115%"
    background_color: str | None = None
    background_x_padding: Length | None = Field(default="26%", description="% of the font size.")
    background_y_padding: Length | None = Field(default="7%", description="% of the font size.")
    background_border_radius: Length | None = Field(default=0, description="% of the font size.")
    transcript_source: str | None = None
    transcript_effect: Literal["highlight", "karaoke", "fade"] | None = None
    transcript_split: Literal["word", "line"] | None = None
    transcript_maximum_length: int | None = Field(default=None, ge=1)
    transcript_color: str | None = None

    _text_colors = field_validator("background_color", "transcript_color")(check_color)
    _text_lengths = field_validator(
        "font_size",
        "font_size_minimum",
        "font_size_maximum",
        "background_x_padding",
        "background_y_padding",
        "background_border_radius",
    )(_check_length)
    _line_height = field_validator("line_height")(_check_percent)


class ShapeElement(Stroked):
    type: Literal["shape"]
    path: str = Field(
        default="M 0 0 L 100 0 L 100 100 L 0 100 Z",
        description="SVG path (M/L/H/V/C/Q/Z) in percent of the element's box.",
    )


class CompositionElement(ElementBase):
    type: Literal["composition"]
    fill_color: str | None = None
    elements: list[Element] = Field(default_factory=list)

    _fill = field_validator("fill_color")(check_color)


Element = Annotated[
    ImageElement | VideoElement | AudioElement | TextElement | ShapeElement | CompositionElement,
    Field(discriminator="type"),
]


class RenderScript(Strict):
    renderer: Literal["ffmpeg", "creatomate"] | None = Field(
        default=None,
        description="AutoClip extension: the renderer this template is made with; unset: "
        "AUTOCLIP_RENDERER_PROVIDER.",
    )
    output_format: Literal["mp4"] = "mp4"
    width: int = Field(ge=16, le=4096)
    height: int = Field(ge=16, le=4096)
    frame_rate: float = Field(default=30, gt=0, le=60)
    duration: float | None = Field(default=None, gt=0, le=3600)
    fill_color: str = "#000000"
    snapshot_time: float | None = Field(default=None, ge=0)
    elements: list[Element] = Field(min_length=1)

    _fill = field_validator("fill_color")(check_color)

    @field_validator("width", "height")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError(f"must be even for H.264 4:2:0, got {value}")
        return value


CompositionElement.model_rebuild()
RenderScript.model_rebuild()

ELEMENT_TYPES = ("image", "video", "audio", "text", "shape", "composition")


UNION_MEMBER = re.compile(r"^(float|int|str|bool|none)$|[\[\]-]")
"""How pydantic names the member of a ``float | str``-like union in an error location."""


def json_path(loc: tuple[int | str, ...]) -> str:
    """``("elements", 2, "image", "x", "float")`` → ``elements[2].x`` (union tags dropped)."""
    path = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(previous, int) and part in ELEMENT_TYPES:
            pass  # pydantic's discriminated-union branch, not a JSON key
        elif UNION_MEMBER.search(part):
            pass  # the member of a union type that was tried, not a JSON key
        else:
            path += f".{part}" if path else str(part)
        previous = part
    return path


def _message(error: Any) -> str:
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return "not supported by the AutoClip RenderScript subset (see README)"
    if kind == "union_tag_invalid":
        return f"unsupported element type; use one of {', '.join(ELEMENT_TYPES)}"
    if kind == "union_tag_not_found":
        return "element needs a 'type'"
    return message.removeprefix("Value error, ")


def parse_render_script(data: Any) -> RenderScript:
    """Validate ``data`` (parsed JSON); TemplateError names the first problem's JSON path."""
    if not isinstance(data, dict):
        raise TemplateError("", "a template is a JSON object")
    try:
        return RenderScript.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = json_path(first["loc"])
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
            path += ".type"
        raise TemplateError(path, _message(first)) from None
