"""Captions: an audio element's word timings → ASS events burned in by libass.

Word timings live in a sidecar next to the audio file, ``<audio file>.transcript.json``:
``{"words": [{"text": "Hello", "start": 0.0, "end": 0.31}, ...]}`` (seconds into the audio
file). Locally there is no speech recogniser, so the engine reads them from there for
``transcript_source`` captions; our TTS knows each phrase's exact time, so the pipeline
writes them. Creatomate transcribes by itself.

``transcript_split``: ``line`` shows groups of words of at most
``transcript_maximum_length`` characters (a pause of ``PAUSE_BREAK`` s also ends one),
``word`` one word at a time. ``transcript_effect``: ``highlight`` colours the spoken word
with ``transcript_color``, ``karaoke`` sweeps that colour through each word as it is
spoken, ``fade`` fades each word in as it starts.

Each track is drawn by libass only at the frames where what it shows can change
(``state_frames``), onto a transparent canvas of its band of rows (``band``) that the video
graph overlays on every frame: for the bench's 30 s short, 87 of 900 frames drawn, ~0.6
CPU-s, where libass blending every 1080x1920 frame took 2.0-2.3 s.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from PIL import ImageFont
from pydantic import BaseModel, Field, ValidationError

from autoclip_core.render.ass_subtitles import (
    ass_centiseconds,
    ass_escape,
    ass_script,
    ass_timestamp,
    cell_ratio,
)
from autoclip_core.render.colors import ass_color, parse_color
from autoclip_core.render.fonts import font_file, is_bold
from autoclip_core.render.renderscript import (
    AudioElement,
    TemplateError,
    TextElement,
    length,
    percent,
)
from autoclip_core.render.text_layout import background_padding, has_background, wrap_text
from autoclip_core.render.timeline import Placed
from autoclip_core.schemas import CaptionCue

SIDECAR_SUFFIX = ".transcript.json"


class Word(BaseModel):
    text: str = Field(min_length=1)
    start: float = Field(ge=0)
    end: float = Field(ge=0)


class Transcript(BaseModel):
    words: list[Word]


def words_from_cues(cues: Sequence[CaptionCue]) -> list[Word]:
    """Word times from phrase cues: each phrase's time shared by its words' lengths."""
    words: list[Word] = []
    for cue in cues:
        parts = cue.text.split()
        if not parts:
            continue
        total = sum(len(p) + 1 for p in parts)
        at = cue.start
        for part in parts:
            step = (cue.end - cue.start) * (len(part) + 1) / total
            words.append(Word(text=part, start=round(at, 4), end=round(at + step, 4)))
            at += step
    return words


def sidecar_path(audio: Path) -> Path:
    return audio.with_name(audio.name + SIDECAR_SUFFIX)


def write_transcript(audio: Path, words: Sequence[Word]) -> Path:
    path = sidecar_path(audio)
    path.write_text(Transcript(words=list(words)).model_dump_json(), encoding="utf-8")
    return path


def read_transcript(audio: Path, where: str) -> Transcript:
    path = sidecar_path(audio)
    if not path.is_file():
        raise TemplateError(
            where,
            f"no transcript for {audio.name}: the local renderer reads word times from "
            f"{path.name} (see README)",
        )
    try:
        return Transcript.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        raise TemplateError(where, f"{path.name} is not a valid transcript: {exc}") from None


DEFAULT_MAXIMUM_LENGTH = 32
PAUSE_BREAK = 0.6
LINGER = 0.4
"""Seconds a group stays up after its last word when nothing follows at once."""
FADE_MS = 150
SENTENCE_ENDS = (".", "!", "?", "。", "…", ":", ";")
ANIMATED_EFFECTS = ("karaoke", "fade")
"""Effects whose words change within an event: libass draws every frame of their events."""


@dataclass(frozen=True)
class Cue:
    """One ASS event: shown from ``start`` to ``end`` (seconds), ``text`` with override tags."""

    start: float
    end: float
    text: str
    lines: tuple[str, ...] = ()
    """The words of each line, without markup (what the background goes behind)."""


def first_frame_at(milliseconds: int, fps: float) -> int:
    """The first frame whose time, in whole milliseconds rounded down, has reached
    ``milliseconds`` (how the caption layer hands frames to libass)."""
    return math.ceil(milliseconds * fps / 1000)


def _groups(words: list[Word], split: str, maximum: int) -> list[list[Word]]:
    if split == "word":
        return [[word] for word in words]
    groups: list[list[Word]] = []
    for word in words:
        current = groups[-1] if groups else None
        if (
            current is None
            or len(" ".join(w.text for w in current)) + 1 + len(word.text) > maximum
            or word.start - current[-1].end > PAUSE_BREAK
            or current[-1].text.endswith(SENTENCE_ENDS)
        ):
            groups.append([word])
        else:
            current.append(word)
    return groups


def _alignment(x_share: float, y_share: float) -> int:
    column = 0 if x_share < 1 / 3 else (1 if x_share < 2 / 3 else 2)
    row = 6 if y_share < 1 / 3 else (3 if y_share < 2 / 3 else 0)
    return row + column + 1


def _snapped(share: float) -> float:
    """The share ``\\an`` aligns at: 0, a half or 1."""
    return 0.0 if share < 1 / 3 else (0.5 if share < 2 / 3 else 1.0)


QUARTER_ARC = 0.5523
"""Control-point distance, in radii, of a cubic Bézier that draws a quarter circle."""


def rounded_rectangle(left: float, top: float, right: float, bottom: float, radius: float) -> str:
    """An ASS drawing (``\\p1`` commands, whole pixels) of a rectangle, corners rounded."""
    r = max(min(radius, (right - left) / 2, (bottom - top) / 2), 0)
    c = r * (1 - QUARTER_ARC)
    points = [
        ("m", [(left + r, top)]),
        ("l", [(right - r, top)]),
        ("b", [(right - c, top), (right, top + c), (right, top + r)]),
        ("l", [(right, bottom - r)]),
        ("b", [(right, bottom - c), (right - c, bottom), (right - r, bottom)]),
        ("l", [(left + r, bottom)]),
        ("b", [(left + c, bottom), (left, bottom - c), (left, bottom - r)]),
        ("l", [(left, top + r)]),
        ("b", [(left, top + c), (left + c, top), (left + r, top)]),
    ]
    return " ".join(
        f"{command} " + " ".join(f"{round(x)} {round(y)}" for x, y in xy) for command, xy in points
    )


class CaptionTrack:
    """The ASS style and events of one transcript text element."""

    def __init__(
        self, item: Placed, audio: Placed, frame: tuple[int, int], style_name: str
    ) -> None:
        element = item.element
        assert isinstance(element, TextElement)
        assert isinstance(audio.element, AudioElement)
        assert audio.media is not None
        self.item, self.element, self.audio, self.frame = item, element, audio, frame
        self.style_name = style_name
        self.transcript = read_transcript(audio.media, f"{item.where}.transcript_source")
        self.font_file = font_file(element.font_family, is_bold(element), item.where)
        default_size = 0.065 * min(frame)
        self.em = length(element.font_size, item.box.height, frame, default_size)
        self.ratio = cell_ratio(self.font_file)
        # Pillow at the em measures what libass draws at Fontsize em * ratio (calibrated).
        self.font = ImageFont.truetype(str(self.font_file), size=self.em)

    def style_line(self) -> str:
        e = self.element
        primary = ass_color(e.fill_color or "#000000")
        highlight = ass_color(e.transcript_color or "#ffd400")
        outline = ass_color(e.stroke_color or "#000000")
        back = ass_color("#00000000")
        if e.transcript_effect == "karaoke":  # sung = primary, not yet sung = secondary
            primary, secondary = highlight, primary
        else:
            secondary = highlight
        fields = [
            self.style_name, e.font_family, f"{self.em * self.ratio:.1f}",
            primary, secondary, outline, back,
            "-1" if is_bold(e) else "0", "0", "0", "0", "100", "100", "0", "0",
            "1", f"{self._border():.1f}", "0", "5", "0", "0", "0", "1",
        ]  # fmt: skip
        return "Style: " + ",".join(fields)

    def _wrap(self, text: str) -> list[str]:
        return wrap_text(text, self.font, self.item.box.width)

    def _anchor(self) -> tuple[float, float, float, float]:
        """The point the text is aligned at, and the alignment shares (x, y, xa, ya): in the
        box by ``x_alignment``/``y_alignment``; along an unset width or height, the text is
        as wide or tall as what it shows, so it sits at ``x``/``y`` by its anchor."""
        e, box = self.element, self.item.box
        xa = percent(e.x_anchor, 0.5) if e.width is None else percent(e.x_alignment, 0)
        ya = percent(e.y_anchor, 0.5) if e.height is None else percent(e.y_alignment, 0)
        return box.x + box.width * xa, box.y + box.height * ya, xa, ya

    def _position(self, top: int) -> str:
        x, y, xa, ya = self._anchor()
        return f"{{\\an{_alignment(xa, ya)}\\pos({x:.0f},{y - top:.0f})}}"

    def _border(self) -> float:
        """The style's ``Outline``: the stroke's outer half."""
        e = self.element
        stroke = length(e.stroke_width, self.item.box.width, self.frame, 0) if e.stroke_color else 0
        return stroke / 2

    def _background(self, cue: Cue, top: int) -> str:
        """A drawing behind the cue (layer 0, the words on layer 1): each line's cell, padded
        by shares of the font size, corners rounded, all in one shape, so that overlapping
        lines are not darker (libass's own boxes, ``BorderStyle=3``, are drawn per run of
        words and overlap wherever the highlight splits a line)."""
        e = self.element
        assert e.background_color is not None
        x, y, xa, ya = self._anchor()
        column, row = _snapped(xa), _snapped(ya)
        cell = self.em * self.ratio
        pad_x, pad_y, radius = background_padding(e, self.em, self.frame)
        block_top = y - top - len(cue.lines) * cell * row
        shapes = []
        for n, line in enumerate(cue.lines):
            width = self.font.getlength(line)
            left = x - width * column
            line_top = block_top + n * cell
            shapes.append((left - pad_x, line_top - pad_y, left + width + pad_x))
            shapes[-1] += (line_top + cell + pad_y,)
        origin_x, origin_y = min(r[0] for r in shapes), min(r[1] for r in shapes)
        drawing = " ".join(
            rounded_rectangle(x0 - origin_x, y0 - origin_y, x1 - origin_x, y1 - origin_y, radius)
            for x0, y0, x1, y1 in shapes
        )
        # libass blends a translucent colour's alpha in twice onto the transparent canvas (a
        # share a of opacity leaves a * a) and the colour once (premultiplied): drawn with
        # opacity sqrt(a) and its colour times sqrt(a), the band unpremultiplies back to it.
        r, g, b, a = parse_color(e.background_color)
        share = math.sqrt(a / 255)
        r, g, b = (round(channel * share) for channel in (r, g, b))
        tags = (
            f"{{\\an7\\pos({origin_x:.0f},{origin_y:.0f})\\bord0\\shad0"
            f"\\1c&H{b:02X}{g:02X}{r:02X}&\\1a&H{255 - round(255 * share):02X}&\\p1}}"
        )
        times = f"{ass_timestamp(cue.start)},{ass_timestamp(cue.end)}"
        return f"Dialogue: 0,{times},{self.style_name},,0,0,0,,{tags}{drawing}"

    def _audio_time(self, seconds: float) -> float:
        trim = getattr(self.audio.element, "trim_start", None) or 0.0
        return self.audio.start + seconds - trim

    def events(self, top: int = 0) -> list[str]:
        """The track's ASS events, positioned in a canvas whose row 0 is frame row ``top``."""
        if not has_background(self.element):
            return [self._dialogue(cue, top) for cue in self.cues]
        return [
            line
            for cue in self.cues
            for line in (self._background(cue, top), self._dialogue(cue, top, layer=1))
        ]

    @cached_property
    def cues(self) -> list[Cue]:
        e = self.element
        maximum = e.transcript_maximum_length or DEFAULT_MAXIMUM_LENGTH
        words = [
            w.model_copy(
                update={"start": self._audio_time(w.start), "end": self._audio_time(w.end)}
            )
            for w in self.transcript.words
        ]
        # Only what the audio really plays, while the caption element is shown.
        first = max(self.item.start, self.audio.start)
        last = min(self.item.end, self.audio.end)
        words = [
            w.model_copy(update={"start": max(w.start, first), "end": min(w.end, last)})
            for w in words
            if w.end > first and w.start < last
        ]
        groups = _groups(words, e.transcript_split or "line", maximum)
        cues: list[Cue] = []
        for n, group in enumerate(groups):
            following = groups[n + 1][0].start if n + 1 < len(groups) else None
            end = group[-1].end + LINGER
            if following is not None:
                end = min(end, following) if following > group[-1].end else group[-1].end
            end = min(end, self.item.end)
            cues.extend(self._group_cues(group, group[0].start, max(end, group[0].start)))
        return cues

    def _dialogue(self, cue: Cue, top: int, layer: int = 0) -> str:
        times = f"{ass_timestamp(cue.start)},{ass_timestamp(cue.end)}"
        return (
            f"Dialogue: {layer},{times},{self.style_name},,0,0,0,,{self._position(top)}{cue.text}"
        )

    def state_frames(self, fps: float) -> list[int]:
        """Frames at which what this track shows may change: libass draws only these.

        A cue starts showing at the first frame at or after its start and stops at the first
        frame at or after its end (libass: start <= t < end, in whole milliseconds, which
        is exactly the time the caption layer hands it for each frame). An animated effect
        changes on every frame of its cues.
        """
        frames = {0}
        for cue in self.cues:
            first = first_frame_at(ass_centiseconds(cue.start) * 10, fps)
            last = first_frame_at(ass_centiseconds(cue.end) * 10, fps)
            if self.element.transcript_effect in ANIMATED_EFFECTS:
                frames.update(range(first, last + 1))
            else:
                frames.update((first, last))
        return sorted(frames)

    def band(self) -> tuple[int, int]:
        """Top row and height (both even) of the rows this track can draw in.

        The text block is as many line cells (``Fontsize`` px each) as its longest cue has
        lines, anchored at the track's position like ``\\an``; around it the outline (or
        the background's padding) and half a line more, for glyphs that overshoot their
        cell.
        """
        height = self.frame[1]
        cell = self.em * self.ratio
        lines = max((cue.text.count(r"\N") + 1 for cue in self.cues), default=1)
        block = lines * cell
        _, y, _, ya = self._anchor()
        row = 0.0 if ya < 1 / 3 else (0.5 if ya < 2 / 3 else 1.0)
        pad_y = 0.0
        if has_background(self.element):
            pad_y = background_padding(self.element, self.em, self.frame)[1]
        margin = max(self._border(), pad_y) + cell / 2
        top = min(max(math.floor((y - block * row - margin) / 2) * 2, 0), height - 2)
        bottom = min(max(math.ceil((y + block * (1 - row) + margin) / 2) * 2, top + 2), height)
        return top, bottom - top

    def _layout(self, group: list[Word]) -> list[list[int]]:
        """Indices of the group's words per wrapped line."""
        lines = self._wrap(" ".join(w.text for w in group))
        out: list[list[int]] = []
        index = 0
        for line in lines:
            count = len(line.split())
            out.append(list(range(index, index + count)))
            index += count
        if index < len(group):  # a word split inside: keep the rest on the last line
            out[-1].extend(range(index, len(group)))
        return out

    def _text(self, group: list[Word], word_markup: list[str]) -> str:
        return r"\N".join(
            " ".join(word_markup[i] for i in line if i < len(group)) for line in self._layout(group)
        )

    def _group_cues(self, group: list[Word], start: float, end: float) -> list[Cue]:
        effect = self.element.transcript_effect
        plain = [ass_escape(w.text) for w in group]
        lines = tuple(
            " ".join(group[i].text for i in line if i < len(group)) for line in self._layout(group)
        )
        cues = self._effect_cues(group, plain, start, end, effect)
        return [Cue(c.start, c.end, c.text, lines) for c in cues]

    def _effect_cues(
        self, group: list[Word], plain: list[str], start: float, end: float, effect: str | None
    ) -> list[Cue]:
        if effect is None:
            return [Cue(start, end, self._text(group, plain))]
        if effect == "karaoke":
            marks = []
            for i, word in enumerate(group):
                until = group[i + 1].start if i + 1 < len(group) else word.end
                marks.append(f"{{\\kf{max(round((until - word.start) * 100), 1)}}}{plain[i]}")
            return [Cue(start, end, self._text(group, marks))]
        if effect == "fade":
            marks = []
            for i, word in enumerate(group):
                at = round((word.start - start) * 1000)
                fade_in = f"{{\\alpha&HFF&\\t({at},{at + FADE_MS},\\alpha&H00&)}}"
                marks.append(f"{fade_in}{plain[i]}{{\\alpha&H00&}}")
            return [Cue(start, end, self._text(group, marks))]
        bgr = ass_color(self.element.transcript_color or "#ffd400")[4:]
        highlight = f"{{\\1c&H{bgr}&}}"
        cues = []
        for i, word in enumerate(group):
            window_start = start if i == 0 else word.start
            window_end = group[i + 1].start if i + 1 < len(group) else end
            if window_end - window_start <= 0:
                continue
            marks = list(plain)
            marks[i] = f"{highlight}{plain[i]}{{\\r}}"
            cues.append(Cue(window_start, window_end, self._text(group, marks)))
        return cues


def build_captions_ass(tracks: Sequence[CaptionTrack], frame: tuple[int, int]) -> str:
    """The tracks' captions drawn onto the whole frame."""
    return ass_script(
        *frame,
        styles=[track.style_line() for track in tracks],
        events=[line for track in tracks for line in track.events()],
    )


def build_band_ass(track: CaptionTrack) -> str:
    """The track's captions drawn onto a canvas of its band's rows alone (``band``): the
    same pixels as on the whole frame, where libass copies a smaller canvas at each frame
    it draws (0.5 CPU-s less per 30 s short)."""
    top, height = track.band()
    return ass_script(track.frame[0], height, styles=[track.style_line()], events=track.events(top))
