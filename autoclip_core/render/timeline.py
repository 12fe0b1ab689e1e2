"""Resolve a RenderScript into placed elements: absolute times, pixel boxes, checked media.

Timing rules (as on Creatomate):

* elements on the same ``track`` follow each other when they have no ``time``; an element
  without a ``track`` gets a track of its own;
* ``duration`` omitted or ``"media"`` on audio/video: the media's length (after trims);
  omitted elsewhere (or with ``loop``): until the end of the parent composition;
* a ``transition: true`` animation at the start overlaps the element with its track
  neighbour for the animation's duration (an element without ``time`` starts that much
  earlier; one with ``time`` keeps it and its neighbour stays visible until the overlap ends);
* the video lasts ``duration`` or, if omitted, until the last element with a known end.

Geometry: ``x``/``y`` (default 50%) place the element's anchor point (``x_anchor``/
``y_anchor``, default 50%) inside the parent; ``width``/``height`` default to 100%, except
for text, which is as wide and tall as its text when they are unset (``text_layout``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autoclip_core.render.media_sources import MediaResolver
from autoclip_core.render.renderscript import (
    Animation,
    AudioElement,
    CompositionElement,
    Element,
    ImageElement,
    RenderScript,
    TemplateError,
    TextElement,
    VideoElement,
    length,
    percent,
)
from autoclip_core.render.text_layout import TextLayout, layout_text

EPSILON = 1e-6
OWN_TRACK_BASE = 1_000_000


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in whole pixels: what an element is drawn at."""
        return round(self.width), round(self.height)


@dataclass
class Placed:
    element: Element
    where: str
    """JSON path, for error messages."""
    start: float
    end: float
    box: Box
    track: int
    order: int
    media: Path | None = None
    media_seconds: float | None = None
    media_has_audio: bool = False
    media_has_alpha: bool = False
    """An image with transparent pixels."""
    text: TextLayout | None = None
    """A text element's font size, lines and box (transcript captions have none)."""
    children: list[Placed] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def name(self) -> str:
        return self.element.name or self.where


def element_box(
    element: Element, parent: Box, frame: tuple[int, int], where: str
) -> tuple[Box, TextLayout | None]:
    """The element's box in its parent, and a text's layout (which sizes an unset width or
    height to the text)."""
    layout = None
    if isinstance(element, TextElement) and element.transcript_source is None:
        layout = layout_text(element, (parent.width, parent.height), frame, where)
        width, height = layout.width, layout.height
    else:
        width = length(element.width, parent.width, frame, parent.width)
        height = length(element.height, parent.height, frame, parent.height)
    if round(width) < 1 or round(height) < 1:
        raise TemplateError(where, f"the element must be at least 1x1 px, got {width:g}x{height:g}")
    x = length(element.x, parent.width, frame, parent.width / 2)
    y = length(element.y, parent.height, frame, parent.height / 2)
    left = x - width * percent(element.x_anchor, 0.5)
    top = y - height * percent(element.y_anchor, 0.5)
    return Box(left, top, width, height), layout


def start_transition(element: Element) -> Animation | None:
    for animation in element.animations:
        if animation.transition and animation.time == "start":
            return animation
    return None


def transition_seconds(element: Element) -> float:
    animation = start_transition(element)
    if animation is None:
        return 0.0
    return animation.duration or 1.0


class TimelineBuilder:
    def __init__(self, script: RenderScript, media: MediaResolver) -> None:
        self.script = script
        self.media = media
        self.frame = (script.width, script.height)
        self.audio_names: set[str] = set()

    def build(self) -> tuple[list[Placed], float]:
        frame_box = Box(0, 0, self.script.width, self.script.height)
        placed, known_end = self._place(self.script.elements, "elements", frame_box)
        duration = self.script.duration or known_end
        if duration is None or duration <= 0:
            raise TemplateError(
                "duration",
                "cannot tell how long the video is: set 'duration' or give an element one",
            )
        self._finish(placed, duration)
        self._check_references(placed)
        return [p for p in placed if p.start < duration - EPSILON], duration

    def _place(
        self, elements: list[Element], path: str, parent: Box
    ) -> tuple[list[Placed], float | None]:
        """Place ``elements`` of one composition; ends unknown yet are ``nan`` for now."""
        placed: list[Placed] = []
        last_on_track: dict[int, Placed] = {}
        known_end: float | None = None
        for i, element in enumerate(elements):
            where = f"{path}[{i}]"
            track = element.track if element.track is not None else OWN_TRACK_BASE + i
            previous = last_on_track.get(track)
            overlap = transition_seconds(element)
            if element.time is not None:
                start = element.time
            elif previous is None:
                start = 0.0
            elif previous.end != previous.end:  # nan: runs to the end of its parent
                raise TemplateError(
                    where,
                    f"follows {previous.name!r} on track {track}, which has no end; "
                    "give that element a duration or this one a time",
                )
            else:
                start = max(previous.end - overlap, 0.0)
            box, layout = element_box(element, parent, self.frame, where)
            item = Placed(element, where, start, float("nan"), box, track, i, text=layout)
            self._attach_media(item)
            own = self._own_duration(item)
            if own is not None:
                item.end = start + own
                known_end = max(known_end or 0.0, item.end)
            if previous is not None and overlap and element.time is not None:
                if previous.end == previous.end and previous.end < start + overlap:
                    previous.end = start + overlap
            placed.append(item)
            last_on_track[track] = item
        return placed, known_end

    def _attach_media(self, item: Placed) -> None:
        element = item.element
        if isinstance(element, AudioElement) and element.name:
            self.audio_names.add(element.name)
        if isinstance(element, ImageElement):
            item.media = self.media.path(element.source, f"{item.where}.source")
            item.media_has_alpha = self.media.image(item.media, f"{item.where}.source").has_alpha
        elif isinstance(element, VideoElement | AudioElement):
            item.media = self.media.path(element.source, f"{item.where}.source")
            info = self.media.probe(item.media, f"{item.where}.source")
            stream = info.video if isinstance(element, VideoElement) else info.audio
            if stream is None:
                kind = "video" if isinstance(element, VideoElement) else "audio"
                raise TemplateError(f"{item.where}.source", f"{item.media.name} has no {kind}")
            item.media_seconds = info.duration
            item.media_has_audio = info.audio is not None
            trim = element.trim_start or 0.0
            if trim >= info.duration:
                raise TemplateError(
                    f"{item.where}.trim_start",
                    f"{trim:g} s is past the end of {item.media.name} ({info.duration:.2f} s)",
                )

    def _own_duration(self, item: Placed) -> float | None:
        """The element's length when it does not depend on its parent; else None."""
        element = item.element
        inner_end = None
        if isinstance(element, CompositionElement):
            inner = Box(0, 0, item.box.width, item.box.height)
            where = f"{item.where}.elements"
            item.children, inner_end = self._place(element.elements, where, inner)
        if isinstance(element.duration, int | float):
            return float(element.duration)
        if isinstance(element, VideoElement | AudioElement):
            if element.loop and element.duration != "media":
                return None
            assert item.media_seconds is not None
            available = item.media_seconds - (element.trim_start or 0.0)
            return min(element.trim_duration or available, available)
        if element.duration == "media":
            raise TemplateError(
                f"{item.where}.duration", "'media' is only for video and audio elements"
            )
        return inner_end

    def _finish(self, placed: list[Placed], parent_end: float) -> None:
        """Open ends run to ``parent_end``; children get their composition's length."""
        for item in placed:
            if item.end != item.end:
                item.end = parent_end
            item.end = min(item.end, parent_end)
            if item.end - item.start < EPSILON:
                if item.start >= parent_end - EPSILON:
                    continue  # starts after the end: dropped by the caller
                raise TemplateError(f"{item.where}.duration", "element has no length")
            overlap = transition_seconds(item.element)
            if overlap > item.duration + EPSILON:
                raise TemplateError(
                    f"{item.where}.animations",
                    f"transition of {overlap:g} s is longer than the element "
                    f"({item.duration:.2f} s)",
                )
            if isinstance(item.element, CompositionElement):
                self._finish(item.children, item.duration)
                item.children = [c for c in item.children if c.start < item.duration - EPSILON]

    def _check_references(self, placed: list[Placed]) -> None:
        for item in walk(placed):
            element = item.element
            if isinstance(element, TextElement) and element.transcript_source is not None:
                if element.transcript_source not in self.audio_names:
                    raise TemplateError(
                        f"{item.where}.transcript_source",
                        f"no audio element named {element.transcript_source!r}",
                    )
            if isinstance(element, AudioElement) and element.duck_under is not None:
                if element.duck_under not in self.audio_names - {element.name}:
                    raise TemplateError(
                        f"{item.where}.duck_under",
                        f"no other audio element named {element.duck_under!r}",
                    )


def walk(placed: list[Placed]) -> list[Placed]:
    out: list[Placed] = []
    for item in placed:
        out.append(item)
        out.extend(walk(item.children))
    return out


def resolve_timeline(script: RenderScript, media: MediaResolver) -> tuple[list[Placed], float]:
    """Top-level placed elements (children nested) and the video's duration in seconds."""
    return TimelineBuilder(script, media).build()
