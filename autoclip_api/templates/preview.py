"""Template previews: a real frame (PNG) or a short clip (mp4) rendered by the local engine.

A template names its media by file name; a preview has no item to fill them with, so each
relative source gets a stand-in made for it in a folder of its own (a labelled card for an
image, a few seconds of music with placeholder words for an audio, a coloured clip for a
video). Sources given as http(s) URLs are fetched by the engine through its SSRF guard.

Rendering takes seconds of both cores: it runs on the thread pool, at most
``concurrency`` at once per process, with at most ``max_waiting`` more waiting (beyond
that: 503 with Retry-After), and each render is cut off after ``timeout_s``.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image, ImageDraw, ImageFont
from starlette.concurrency import run_in_threadpool

from autoclip_api.core.errors import ServiceUnavailable
from autoclip_core.render.captions import Word, write_transcript
from autoclip_core.render.engine import (
    AUDIO_ARGS,
    BITEXACT_ARGS,
    FFmpegEngine,
    RenderJob,
)
from autoclip_core.render.engine_config import EngineConfig
from autoclip_core.render.ffmpeg_binary import run_ffmpeg
from autoclip_core.render.fonts import font_path
from autoclip_core.render.music import write_beat_track
from autoclip_core.render.renderscript import TemplateError, parse_render_script
from autoclip_core.render.templates import apply_modifications, repeat_element, walk_elements
from autoclip_core.settings import Settings
from autoclip_core.template_checks import missing_pipeline_elements, template_problems

T = TypeVar("T")

MAX_CLIP_SECONDS = 5.0
STAND_IN_SECONDS = 5.0
"""Length of a stand-in audio or video: what an auto-length template's preview lasts."""
SAMPLE_SCENES = 3
SAMPLE_TITLE_S, SAMPLE_SCENE_S = 1.2, 1.0
PREVIEW_TIMEOUT_S = 60.0
STAND_IN_WORDS = ("Your", "captions", "appear", "here")
MEDIA_TYPES = {"png": "image/png", "mp4": "video/mp4"}


@dataclass(frozen=True)
class Preview:
    body: bytes
    media_type: str


def _color(name: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(name.encode()).digest()
    return (40 + digest[0] % 150, 40 + digest[1] % 150, 40 + digest[2] % 150)


def _stand_in_image(path: Path, name: str, size: tuple[int, int]) -> None:
    image = Image.new("RGB", size, _color(name))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(font_path(bold=True)), max(16, min(size) // 16))
    draw.text((size[0] / 2, size[1] / 2), name, fill="white", font=font, anchor="mm")
    image.save(path)


def _stand_in_audio(path: Path) -> None:
    write_beat_track(path, STAND_IN_SECONDS)
    step = STAND_IN_SECONDS / len(STAND_IN_WORDS)
    words = [
        Word(text=w, start=round(i * step, 3), end=round((i + 1) * step, 3))
        for i, w in enumerate(STAND_IN_WORDS)
    ]
    write_transcript(path, words)


def _stand_in_video(path: Path, name: str, size: tuple[int, int], config: EngineConfig) -> None:
    r, g, b = _color(name)
    run_ffmpeg(
        [
            "-y", "-loglevel", "error",
            "-f", "lavfi",
            "-i", f"color=c=0x{r:02x}{g:02x}{b:02x}:s={size[0]}x{size[1]}:r=30"
                  f":d={STAND_IN_SECONDS}",
            *config.video_args(),
            *BITEXACT_ARGS,
            str(path),
        ],
        timeout_s=PREVIEW_TIMEOUT_S,
    )  # fmt: skip


def write_stand_ins(data: dict[str, Any], folder: Path, config: EngineConfig) -> None:
    """A stand-in file in ``folder`` for every relative source of the template."""
    size = (int(data.get("width") or 1080), int(data.get("height") or 1920))
    for _, element in walk_elements(data.get("elements") or []):
        source = element.get("source")
        if not isinstance(source, str) or "://" in source:
            continue
        target = folder / source
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        kind = element.get("type")
        if kind == "image":
            _stand_in_image(target, Path(source).name, size)
        elif kind == "audio":
            _stand_in_audio(target)
        elif kind == "video":
            _stand_in_video(target, Path(source).name, size, config)


def as_the_pipeline_fills(data: dict[str, Any]) -> dict[str, Any]:
    """A template with the pipeline's elements filled as for a sample item (a title card,
    three scenes and an end card over the stand-in narration); any other template as is.

    The pipeline sets the cards' and scenes' times from the narration, so the template alone
    does not say them.
    """
    if missing_pipeline_elements(data):
        return data
    end_at = SAMPLE_TITLE_S + SAMPLE_SCENES * SAMPLE_SCENE_S
    modifications: dict[str, Any] = {
        "Title-Card.duration": SAMPLE_TITLE_S,
        "End-Card.time": end_at,
        "End-Card.duration": round(STAND_IN_SECONDS - end_at, 3),
    }
    for n in range(1, SAMPLE_SCENES + 1):
        modifications[f"Scene-{n}.source"] = f"scene-{n}.png"
        modifications[f"Scene-{n}.time"] = SAMPLE_TITLE_S + (n - 1) * SAMPLE_SCENE_S
        modifications[f"Scene-{n}.duration"] = SAMPLE_SCENE_S
    return apply_modifications(repeat_element(data, "Scene", SAMPLE_SCENES), modifications)


def render_preview(
    data: dict[str, Any], *, at: float | None, fmt: str, config: EngineConfig
) -> Preview:
    """Render ``data`` (checked by ``template_checks``, modifications applied) with stand-in
    media: the frame shown at ``at`` seconds (PNG), or up to 5 s from there (mp4).

    A template that declares a longer ``duration`` is rendered only as far as the preview
    needs. ``TemplateError`` (the template's fault) and ``RenderError`` propagate.
    """
    problems = template_problems(data)
    if problems:  # the caller checked; a preview never reads this server's files regardless
        raise TemplateError(problems[0].path, problems[0].message)
    data = copy.deepcopy(data)
    start = at or 0.0
    fps = float(data.get("frame_rate") or 30)
    until = start + (MAX_CLIP_SECONDS if fmt == "mp4" else 2 / fps)
    declared = data.get("duration")
    if isinstance(declared, int | float) and declared > until:
        data["duration"] = round(until, 3)
    if fmt == "png" and at is not None:
        data["snapshot_time"] = at
    script = parse_render_script(data)
    with tempfile.TemporaryDirectory(prefix="autoclip-preview-") as tmp:
        folder = Path(tmp)
        media = folder / "media"
        media.mkdir()
        write_stand_ins(data, media, config)
        out = folder / "preview.mp4"
        snapshot = folder / "preview.png" if fmt == "png" else None
        stats = FFmpegEngine(config).render(RenderJob(script, out, media, snapshot))
        if snapshot is not None:
            return Preview(snapshot.read_bytes(), MEDIA_TYPES["png"])
        if stats.duration <= MAX_CLIP_SECONDS and start == 0:
            return Preview(out.read_bytes(), MEDIA_TYPES["mp4"])
        clip = folder / "clip.mp4"
        begin = min(start, max(stats.duration - MAX_CLIP_SECONDS, 0.0))
        run_ffmpeg(
            [
                "-y", "-loglevel", "error",
                "-ss", f"{begin:.3f}", "-t", f"{MAX_CLIP_SECONDS:.3f}",
                "-i", str(out),
                *config.video_args(), *AUDIO_ARGS,
                "-movflags", "+faststart", *BITEXACT_ARGS,
                str(clip),
            ],
            timeout_s=PREVIEW_TIMEOUT_S,
        )  # fmt: skip
        return Preview(clip.read_bytes(), MEDIA_TYPES["mp4"])


class PreviewRenderer:
    """Runs previews on the thread pool, ``concurrency`` at once per process."""

    def __init__(self, config: EngineConfig, *, concurrency: int, max_waiting: int = 8) -> None:
        self.config = config
        self.concurrency = concurrency
        self.max_waiting = max_waiting
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._queued = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> PreviewRenderer:
        config = EngineConfig.from_settings(settings).model_copy(
            update={"timeout_s": PREVIEW_TIMEOUT_S}
        )
        return cls(config, concurrency=settings.preview_concurrency)

    def _semaphore(self) -> asyncio.Semaphore:
        # A semaphore belongs to one event loop: the serving process has one.
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            self._loop, self._slots, self._queued = loop, asyncio.Semaphore(self.concurrency), 0
        return self._slots

    async def run(self, render: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        slots = self._semaphore()
        if self._queued >= self.concurrency + self.max_waiting:
            raise ServiceUnavailable("Too many previews are being rendered; try again shortly")
        self._queued += 1
        try:
            async with slots:
                return await run_in_threadpool(render, *args, **kwargs)
        finally:
            self._queued -= 1

    async def preview(self, data: dict[str, Any], *, at: float | None, fmt: str) -> Preview:
        return await self.run(render_preview, data, at=at, fmt=fmt, config=self.config)
