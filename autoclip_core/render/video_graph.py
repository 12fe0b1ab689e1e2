"""Placed visual elements → one ffmpeg filter graph ending in ``[vout]``.

Two layers, both built without per-frame Python:

* the **backdrop**: when the lowest track holds only full-frame opaque elements (the
  scenes of a short), they are decoded once each, repeated in memory, zoomed, and
  concatenated; only the frames where a ``transition`` overlaps two neighbours go through
  ``xfade`` (which works in 4:4:4 — converting every frame would cost ~10 ms each). Gaps
  show ``fill_color``. Otherwise the backdrop is a plain ``fill_color`` canvas.
* **overlays**: every other element, as a stream of its own box size that exists only
  during its time, ``overlay``-ed at its position (slides move it per frame).

Stills (images, text, shapes) are prepared once with Pillow at their box size, so ffmpeg
never rescales a frame per frame; image stills are drawn on two threads while the rest of
the graph is planned (``draw_images_ahead``). The slow zoom ("Ken Burns", ``scale``
animation) is planned frame by frame in ``zoom``: sub-pixel smooth at the cost of a fast
``scale``.
Transcript captions come last: libass draws each track only at the frames where it
changes, onto a transparent band that is overlaid on every frame (``CaptionLayer``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from math import cos, floor, radians, sin
from pathlib import Path

import numpy as np
from PIL import Image

from autoclip_core.render.colors import ffmpeg_color, parse_color
from autoclip_core.render.renderscript import (
    Animation,
    AudioElement,
    CompositionElement,
    ImageElement,
    ShapeElement,
    TemplateError,
    TextElement,
    VideoElement,
    length,
    percent,
)
from autoclip_core.render.stills import draw_shape, draw_text, fit_image
from autoclip_core.render.timeline import EPSILON, Placed, start_transition, walk
from autoclip_core.render.zoom import (
    MARGIN,
    Zoom,
    pad_edges,
    padded_length,
    source_length,
    stepwise,
)

EASING = {
    "linear": "P",
    "quadratic-in": "P*P",
    "quadratic-out": "P*(2-P)",
    "quadratic-in-out": "if(lt(P,0.5),2*P*P,1-2*(1-P)*(1-P))",
    "cubic-in-out": "if(lt(P,0.5),4*P*P*P,1-4*pow(1-P,3))",
}
SLIDE_XFADE = {0: "slideright", 90: "slidedown", 180: "slideleft", 270: "slideup"}


EASING_CURVES: dict[str, Callable[[float], float]] = {
    "linear": lambda p: p,
    "quadratic-in": lambda p: p * p,
    "quadratic-out": lambda p: p * (2 - p),
    "quadratic-in-out": lambda p: 2 * p * p if p < 0.5 else 1 - 2 * (1 - p) * (1 - p),
    "cubic-in-out": lambda p: 4 * p * p * p if p < 0.5 else 1 - 4 * (1 - p) ** 3,
}
"""``EASING`` in Python, for values planned before the render (the zoom)."""


def eased(easing: str, progress: str) -> str:
    return EASING[easing].replace("P", f"({progress})")


def _limited(full_range_max: int) -> list[int]:
    """A lookup table from JFIF's full range to video range (16-235 luma, 16-240 chroma)."""
    return [round(16 + v * full_range_max / 255) for v in range(256)]


def yuv_planes(image: Image.Image) -> list[Image.Image]:
    """Y, Cb, Cr (and alpha, if the image has one) as 8-bit planes: BT.601, limited range,
    as swscale converts. Pillow's JFIF conversion and lookup tables, all in C."""
    y, cb, cr = image.convert("RGB").convert("YCbCr").split()
    planes = [y.point(_limited(219)), cb.point(_limited(224)), cr.point(_limited(224))]
    return [*planes, image.getchannel("A")] if image.mode == "RGBA" else planes


def yuv420p_bytes(image: Image.Image) -> bytes:
    """An RGB image (even size) as one raw yuv420p frame (chroma averaged over 2x2)."""
    y, cb, cr = yuv_planes(image.convert("RGB"))
    half = (image.width // 2, image.height // 2)
    chroma = [plane.resize(half, Image.Resampling.BOX) for plane in (cb, cr)]
    return b"".join(plane.tobytes() for plane in (y, *chroma))


def full_chroma(fmt: str) -> str:
    """The 4:4:4 format of a 4:2:0 one (``yuva420p`` → ``yuva444p``)."""
    return fmt.replace("420", "444")


def is_visual(item: Placed) -> bool:
    return not isinstance(item.element, AudioElement)


def is_caption(item: Placed) -> bool:
    return isinstance(item.element, TextElement) and item.element.transcript_source is not None


@dataclass(frozen=True)
class CaptionLayer:
    """A caption track: its ASS file (drawn in band coordinates), the frame rows it draws
    in and the frames it changes at."""

    ass_file: str
    top: int
    height: int
    frames: list[int]


@dataclass
class Span:
    """Frames [first, last) of the output an element is on screen."""

    first: int
    last: int

    @property
    def frames(self) -> int:
        return self.last - self.first


@dataclass
class GraphBuilder:
    width: int
    height: int
    fps: float
    fill_color: str
    workdir: Path
    inputs: list[list[str]] = field(default_factory=list)
    chains: list[str] = field(default_factory=list)
    _labels: int = 0
    _ahead: dict[int, Future[list[str]]] = field(default_factory=dict)

    def label(self, stem: str) -> str:
        self._labels += 1
        return f"{stem}{self._labels}"

    def add_input(self, args: list[str]) -> int:
        self.inputs.append(args)
        return len(self.inputs) - 1

    def span(self, start: float, end: float) -> Span:
        return Span(round(start * self.fps), round(end * self.fps))

    def draw_images_ahead(self, placed: list[Placed], pool: Executor) -> None:
        """Start drawing every image element's still on ``pool`` while the graph is being
        planned (Pillow decodes and resamples without holding the GIL); ``clip`` then takes
        the input ready-made. Text and shapes are drawn when reached: they share FreeType
        faces, which are not safe across threads."""
        images = (i for i in walk(placed) if isinstance(i.element, ImageElement))
        for n, item in enumerate(images):
            zoomed = self._scale_animation(item) is not None
            self._ahead[id(item)] = pool.submit(self.still_input, item, zoomed, f"image{n}")

    # ---- one element as a stream of its box -------------------------------------------

    def clip(self, item: Placed, frames: int, *, opaque: bool) -> str:
        """``item`` as ``frames`` frames of its box size starting at PTS 0 (time base 1/fps)."""
        fmt = "yuv420p" if opaque else "yuva420p"
        w, h = item.box.size
        element = item.element
        zoom = self._zoom(item, frames, w, h)
        repeat = f"loop=loop={frames - 1}:size=1:start=0,settb=1/{self.fps:g},setpts=N"
        out = self.label("clip")
        if isinstance(element, VideoElement | CompositionElement):
            if isinstance(element, VideoElement):
                source = self._video_source(item, frames, w, h, fmt)
            else:
                source = self.composition(item, frames)
            body = self._zoom_filters(zoom, fmt, padded=False) if zoom else "null"
        else:
            ahead = self._ahead.pop(id(item), None)
            args = (
                ahead.result()
                if ahead is not None
                else self.still_input(item, zoom is not None, f"still{len(self.inputs)}")
            )
            index = self.add_input(args)
            source = self.label("still")
            still_fmt = full_chroma(fmt) if zoom else fmt  # converted once, then repeated
            self.chains.append(f"[{index}:v]format={still_fmt},setsar=1[{source}]")
            body = f"{repeat},{self._zoom_filters(zoom, fmt, padded=True)}" if zoom else repeat
        body += self._fades(item, frames, opaque) + f",format={fmt}"
        self.chains.append(f"[{source}]{body}[{out}]")
        return out

    def still_input(self, item: Placed, zoomed: bool, name: str) -> list[str]:
        """ffmpeg input options of the element's still, drawn once at its box size into
        ``workdir/name.*``.

        Opaque stills are handed over as raw 4:2:0 frames: decoding a PNG and converting it
        in ffmpeg kept ~9 MB of RGB buffers and a scaler per still for the whole render.
        A zoomed still is drawn as the zoom's padded 4:4:4 source instead (an image is
        fitted straight to the source's size: one resampling).
        """
        stem = self.workdir / name
        rate = ["-framerate", f"{self.fps:g}"]
        if zoomed:
            w, h = item.box.size
            small = self.draw_still(item, (source_length(w), source_length(h)))
            raw = stem.with_suffix(".yuv")
            raw.write_bytes(b"".join(pad_edges(np.asarray(p)).tobytes() for p in yuv_planes(small)))
            pix = "yuv444p" if small.mode == "RGB" else "yuva444p"
            size = f"{padded_length(w)}x{padded_length(h)}"
            return ["-f", "rawvideo", "-pix_fmt", pix, "-s", size, *rate, "-i", str(raw)]
        image = self.draw_still(item)
        opaque, (w, h) = image.mode == "RGB", image.size
        if opaque and w % 2 == 0 and h % 2 == 0:
            raw = stem.with_suffix(".yuv")
            raw.write_bytes(yuv420p_bytes(image))
            return ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", *rate,
                    "-i", str(raw)]  # fmt: skip
        png = stem.with_suffix(".png")
        image.save(png, "PNG", compress_level=1)
        return [*rate, "-i", str(png)]

    def draw_still(self, item: Placed, size: tuple[int, int] | None = None) -> Image.Image:
        """The element's box (or ``size``): images fitted, text and shapes drawn (and
        resized to ``size``); RGB if opaque, else RGBA."""
        element = item.element
        frame = (self.width, self.height)
        if isinstance(element, TextElement):
            image = draw_text(item, frame)
        elif isinstance(element, ShapeElement):
            image = draw_shape(item, frame)
        else:
            assert isinstance(element, ImageElement)
            assert item.media is not None
            box = item.box.size
            image = fit_image(item.media, size or box, element.fit, shape=box)
            share = percent(element.opacity, 1.0)
            if share < 1:
                image = image.convert("RGBA")
                image.putalpha(image.getchannel("A").point(lambda a: round(a * share)))
        if size is not None and image.size != size:
            image = image.resize(size, Image.Resampling.LANCZOS)
        if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
            image = image.convert("RGB")
        return image

    def _video_source(self, item: Placed, frames: int, w: int, h: int, fmt: str) -> str:
        element = item.element
        assert isinstance(element, VideoElement)
        assert item.media is not None
        args: list[str] = []
        if element.loop:
            args += ["-stream_loop", "-1"]
        if element.trim_start:
            args += ["-ss", f"{element.trim_start:.3f}"]
        if element.trim_duration:
            args += ["-t", f"{element.trim_duration:.3f}"]
        index = self.add_input([*args, "-i", str(item.media)])
        mode = "increase" if element.fit == "cover" else "decrease"
        fit = f"scale={w}:{h}:force_original_aspect_ratio={mode}:flags=bicubic"
        fit += f",crop={w}:{h}" if element.fit == "cover" else f",pad={w}:{h}:-1:-1:color=black@0"
        out = self.label("video")
        opacity = percent(element.opacity, 1.0)
        alpha = f",colorchannelmixer=aa={opacity:.3f}" if opacity < 1 else ""
        pix = "rgba" if alpha else fmt
        self.chains.append(
            f"[{index}:v]fps={self.fps:g},{fit},setsar=1,format={pix}{alpha},format={fmt},"
            f"tpad=stop_mode=clone:stop=-1,trim=end_frame={frames},"
            f"settb=1/{self.fps:g},setpts=N[{out}]"
        )
        return out

    def _scale_animation(self, item: Placed) -> Animation | None:
        animation = next((a for a in item.element.animations if a.type == "scale"), None)
        if animation is None:
            return None
        s0, s1 = percent(animation.start_scale, 1.0), percent(animation.end_scale, 1.0)
        if min(s0, s1) < 1 - EPSILON:
            raise TemplateError(
                f"{item.where}.animations",
                "the local renderer zooms in only: start_scale and end_scale must be ≥ 100%",
            )
        return animation

    def _zoom(self, item: Placed, frames: int, w: int, h: int) -> Zoom | None:
        """The element's scale animation, frame by frame (None without one)."""
        animation = self._scale_animation(item)
        if animation is None:
            return None
        s0, s1 = percent(animation.start_scale, 1.0), percent(animation.end_scale, 1.0)
        first, count = self._animation_frames(animation, frames)
        curve = EASING_CURVES[animation.easing]
        zooms = tuple(
            s0 + (s1 - s0) * curve(min(max((n - first) / max(count - 1, 1), 0.0), 1.0))
            for n in range(frames)
        )
        return Zoom(self.label("zoom"), w, h, zooms)

    def _zoom_filters(self, zoom: Zoom, fmt: str, *, padded: bool) -> str:
        """The zoom's chain; a stream not drawn as its padded source is shrunk and padded."""
        script, commands = zoom.commands(self.fps), None
        if script:
            commands = self.workdir / f"{zoom.name}.cmd"
            commands.write_text(script, encoding="utf-8")
        chain = zoom.filters(commands.name if commands else None, self.fps)
        if padded:
            return chain
        (pw, ph), m = zoom.source_size, MARGIN
        sw, sh = source_length(zoom.width), source_length(zoom.height)
        return (
            f"scale={sw}:{sh}:flags=bicubic,format={full_chroma(fmt)},"
            f"pad={pw}:{ph}:{m}:{m},fillborders=left={m}:right={m}:top={m}:bottom={m}:mode=smear,"
            f"settb=1/{self.fps:g},setpts=N,{chain}"
        )

    def _animation_frames(self, animation: Animation, frames: int) -> tuple[int, int]:
        """First frame and frame count of an animation inside an element of ``frames``."""
        count = frames if animation.duration is None else round(animation.duration * self.fps)
        count = min(max(count, 1), frames)
        if animation.time == "start":
            return 0, count
        if animation.time == "end":
            return frames - count, count
        first = min(round(animation.time * self.fps), frames - 1)
        return first, min(count, frames - first)

    def _fades(self, item: Placed, frames: int, opaque: bool) -> str:
        """Alpha fades of overlay elements (backdrop transitions are ``xfade``-d instead)."""
        out = ""
        for animation in item.element.animations:
            if animation.type != "fade" or (opaque and animation.transition):
                continue
            if opaque:
                raise TemplateError(f"{item.where}.animations", "internal: fade on opaque clip")
            first, count = self._animation_frames(animation, frames)
            kind = "out" if animation.time == "end" else "in"
            out += f",fade=t={kind}:s={first}:n={count}:alpha=1"
        return out

    # ---- compositions -----------------------------------------------------------------

    def composition(self, item: Placed, frames: int) -> str:
        element = item.element
        assert isinstance(element, CompositionElement)
        w, h = item.box.size
        fill = element.fill_color or "transparent"
        opaque = parse_color(fill)[3] == 255
        base = self.canvas(w, h, frames, fill, opaque=opaque)
        return self.overlay_all(base, item.children, frames, origin=0.0)

    def canvas(self, w: int, h: int, frames: int, color: str, *, opaque: bool) -> str:
        out = self.label("canvas")
        fmt = "yuv420p" if opaque else "yuva420p"
        self.chains.append(
            f"color=c={ffmpeg_color(color)}:s={w}x{h}:r={self.fps:g},format={fmt},"
            f"trim=end_frame={frames},settb=1/{self.fps:g},setpts=N[{out}]"
        )
        return out

    def overlay_all(self, base: str, items: list[Placed], frames: int, *, origin: float) -> str:
        """Overlay ``items`` (times relative to ``origin``) onto ``base`` in layer order."""
        layers = sorted(
            (i for i in items if is_visual(i) and not is_caption(i)),
            key=lambda i: (i.element.z_index, i.track, i.order),
        )
        for item in layers:
            if any(is_caption(c) for c in item.children):
                raise TemplateError(
                    item.where, "transcript captions must be top-level elements locally"
                )
            span = self.span(item.start - origin, item.end - origin)
            span.last = min(span.last, frames)
            if span.frames < 1:
                continue
            layer = self.clip(item, span.frames, opaque=False)
            shifted = self.label("at")
            self.chains.append(f"[{layer}]setpts=PTS+{span.first}[{shifted}]")
            x, y = self._position(item, origin)
            out = self.label("layer")
            self.chains.append(
                f"[{base}][{shifted}]overlay=x='{x}':y='{y}':eval=frame:eof_action=pass:"
                f"repeatlast=0:format=auto[{out}]"
            )
            base = out
        return base

    def _position(self, item: Placed, origin: float) -> tuple[str, str]:
        x, y = f"{item.box.x:.2f}", f"{item.box.y:.2f}"
        for animation in item.element.animations:
            if animation.type != "slide":
                continue
            angle = float((animation.direction or "0").rstrip("°deg ")) % 360
            distance = length(
                animation.distance, max(self.width, self.height), (self.width, self.height),
                max(self.width, self.height) * 0.25,
            )  # fmt: skip
            dx, dy = cos(radians(angle)) * distance, sin(radians(angle)) * distance
            duration = animation.duration or (item.end - item.start)
            if animation.time == "end":
                t0 = item.end - origin - duration
                progress = eased(animation.easing, f"clip((t-{t0:.4f})/{duration:.4f},0,1)")
                x += f"+{dx:.2f}*{progress}"
                y += f"+{dy:.2f}*{progress}"
            else:
                t0 = item.start - origin
                progress = eased(animation.easing, f"clip((t-{t0:.4f})/{duration:.4f},0,1)")
                x += f"-{dx:.2f}*(1-{progress})"
                y += f"-{dy:.2f}*(1-{progress})"
        return x, y

    # ---- captions ---------------------------------------------------------------------

    def captions(self, base: str, layer: CaptionLayer, total: int) -> str:
        """``layer`` drawn by libass at its frames only, overlaid on every frame of ``base``.

        libass draws the layer's ASS (``build_band_ass``: the track in band coordinates)
        onto a transparent black RGBA canvas of the band's rows, which leaves each pixel's
        colour premultiplied by its coverage; ``unpremultiply`` turns it into the straight
        colour the overlay blends. Luma then matches libass drawing straight
        onto the video to a level (chroma to ~10% at glyph edges), except while a colour is
        itself translucent (the ``fade`` effect's 150 ms fade-ins). Between its frames the
        overlay keeps the band it last got.

        The canvas counts whole milliseconds, each frame's time rounded down: libass sees
        frame ``n`` at exactly ``floor(n * 1000 / fps)`` ms (a time base of 1/fps would
        hand it 6699 ms for the 6.7 s of frame 201). Drawn, each band is stamped half a
        frame early, so that the overlay pairs it with its own frame even where the
        composed video's times run a hair early (after ``concat``/``xfade``).
        """
        drawn = set(layer.frames) | {0}
        chosen = stepwise([int(n in drawn) for n in range(total)], self.fps)
        band, out = self.label("captions"), self.label("captioned")
        self.chains.append(
            f"color=c=black@0:s={self.width}x{layer.height}:r={self.fps:g},format=rgba,"
            f"trim=end_frame=1,loop=loop={total - 1}:size=1:start=0,"
            f"settb=1/1000,setpts='floor(N*1000/{self.fps:g})',select='{chosen}',"
            f"ass=filename={layer.ass_file}:fontsdir=fonts:alpha=1,"
            f"setpts='max(PTS-{floor(500 / self.fps)},0)',unpremultiply=inplace=1,"
            f"format=yuva420p[{band}]"
        )
        self.chains.append(
            f"[{base}][{band}]overlay=x=0:y={layer.top}:format=yuv420:eof_action=repeat[{out}]"
        )
        return out

    # ---- the backdrop -----------------------------------------------------------------

    def full_frame_opaque(self, item: Placed) -> bool:
        element = item.element
        box = item.box
        if abs(box.x) > 0.5 or abs(box.y) > 0.5:
            return False
        if abs(box.width - self.width) > 0.5 or abs(box.height - self.height) > 0.5:
            return False
        if percent(element.opacity, 1.0) < 1:
            return False
        for animation in element.animations:
            if animation.type == "fade" and not animation.transition:
                return False
            if animation.type == "slide" and not (
                animation.transition and animation.time == "start"
            ):
                return False
        if isinstance(element, ImageElement):
            return element.fit == "cover" and not item.media_has_alpha
        if isinstance(element, VideoElement):
            return element.fit == "cover"
        if isinstance(element, CompositionElement):
            return parse_color(element.fill_color or "transparent")[3] == 255
        return False

    def backdrop(self, items: list[Placed], total: int) -> tuple[str, set[int]]:
        """The bottom track as one opaque stream, and the ids of the items it used."""
        visuals = [i for i in items if is_visual(i) and not is_caption(i)]
        if not visuals:
            return self.canvas(self.width, self.height, total, self.fill_color, opaque=True), set()
        lowest = min(visuals, key=lambda i: (i.element.z_index, i.track))
        track = [
            i
            for i in visuals
            if (i.element.z_index, i.track) == (lowest.element.z_index, lowest.track)
        ]
        track.sort(key=lambda i: i.start)
        if not all(self.full_frame_opaque(i) for i in track):
            return self.canvas(self.width, self.height, total, self.fill_color, opaque=True), set()
        spans = [self.span(i.start, i.end) for i in track]
        for span in spans:
            span.last = min(span.last, total)
        segments: list[str] = []
        cursor = 0
        previous_tail: str | None = None
        for n, (item, span) in enumerate(zip(track, spans, strict=True)):
            head = max(cursor - span.first, 0) if n else 0
            following = spans[n + 1] if n + 1 < len(spans) else None
            tail = max(span.last - following.first, 0) if following else 0
            if span.first > cursor:
                segments.append(
                    self.canvas(
                        self.width, self.height, span.first - cursor, self.fill_color, opaque=True
                    )
                )
            if head + tail >= span.frames:
                raise TemplateError(
                    item.where, "transitions overlap the whole element: lengthen it or shorten them"
                )
            stream = self.clip(item, span.frames, opaque=True)
            pieces = {"body": (head, span.frames - tail)}
            if head:
                pieces["head"] = (0, head)
            if tail:
                pieces["tail"] = (span.frames - tail, span.frames)
            labels = {name: self.label(name) for name in pieces}
            self.chains.append(
                f"[{stream}]split={len(pieces)}" + "".join(f"[s{labels[p]}]" for p in pieces)
            )
            for name, (a, b) in pieces.items():
                self.chains.append(
                    f"[s{labels[name]}]trim=start_frame={a}:end_frame={b},setpts=PTS-STARTPTS"
                    f"[{labels[name]}]"
                )
            if head:
                assert previous_tail is not None
                faded = self.label("xfade")
                transition = self._xfade_transition(item)
                self.chains.append(
                    f"[{previous_tail}][{labels['head']}]xfade=transition={transition}:"
                    f"duration={head / self.fps:.6f}:offset=0,format=yuv420p[{faded}]"
                )
                segments.append(faded)
            segments.append(labels["body"])
            previous_tail = labels.get("tail")
            cursor = span.last
        if cursor < total:
            segments.append(
                self.canvas(self.width, self.height, total - cursor, self.fill_color, opaque=True)
            )
        out = self.label("backdrop")
        self.chains.append(
            "".join(f"[{s}]" for s in segments) + f"concat=n={len(segments)}:v=1:a=0[{out}]"
        )
        return out, {id(i) for i in track}

    def _xfade_transition(self, item: Placed) -> str:
        animation = start_transition(item.element)
        if animation is None or animation.type != "slide":
            return "fade"
        angle = round(float((animation.direction or "0").rstrip("°deg ")) / 90) * 90 % 360
        return SLIDE_XFADE[angle]


def build_video_graph(
    builder: GraphBuilder,
    placed: list[Placed],
    duration: float,
    captions: Sequence[CaptionLayer] = (),
) -> str:
    """Chains for the whole video; returns the graph text (output label ``vout``)."""
    total = max(round(duration * builder.fps), 1)
    base, used = builder.backdrop(placed, total)
    rest = [i for i in placed if id(i) not in used]
    composed = builder.overlay_all(base, rest, total, origin=0.0)
    for layer in captions:
        composed = builder.captions(composed, layer, total)
    builder.chains.append(f"[{composed}]trim=end_frame={total}[vout]")
    return ";\n".join(builder.chains) + "\n"
