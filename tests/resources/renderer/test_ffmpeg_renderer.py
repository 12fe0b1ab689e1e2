from __future__ import annotations

import math
import wave
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import av
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from autoclip_core.fonts import fonts_dir
from autoclip_core.media.probe import extract_frame, probe
from autoclip_core.schemas import CaptionCue
from resources.renderer.base import PlanScene, RenderError, RenderPlan
from resources.renderer.ffmpeg import (
    FFmpegRenderer,
    scene_clips,
    thumbnail_frame,
    total_frames,
)

WIDTH, HEIGHT, FPS = 360, 640, 30
AUDIO_SECONDS = 4.0
ENGLISH_CUE = CaptionCue(text="Energy storage gets cheaper", start=0.3, end=1.7)
KOREAN_CUE = CaptionCue(text="배터리 수명이 두 배로", start=1.9, end=3.2)
CAPTION_BAND = (0, int(HEIGHT * 0.55), WIDTH, int(HEIGHT * 0.8))
"""Where the bottom-centre captions sit (above the bottom 25% kept free)."""


def write_tone(path: Path, seconds: float, rate: int = 24_000) -> Path:
    """A mono 16-bit 440 Hz tone, the shape of a TTS narration file."""
    samples = bytearray()
    for i in range(round(seconds * rate)):
        value = round(8000 * math.sin(2 * math.pi * 440 * i / rate))
        samples += value.to_bytes(2, "little", signed=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(samples))
    return path


def write_scene_image(path: Path, seed: int, size: tuple[int, int] = (400, 700)) -> Path:
    """A busy image (gradient, shapes, grid) in a different aspect than the video."""
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(size[1]):
        shade = y * 255 // size[1]
        draw.line([(0, y), (size[0], y)], fill=(shade, (seed * 80) % 256, 255 - shade))
    for k in range(12):
        x, y = (k * 97 + seed * 31) % size[0], (k * 151 + seed * 53) % size[1]
        draw.ellipse(
            [x - 30, y - 30, x + 30, y + 30], fill=((k * 40) % 256, 200, (seed * 90) % 256)
        )
    for x in range(0, size[0], 40):
        draw.line([(x, 0), (x, size[1])], fill=(255, 255, 255), width=2)
    image.save(path)
    return path


def make_plan(
    folder: Path,
    *,
    captions: list[CaptionCue],
    scenes: int = 3,
    seconds: float = AUDIO_SECONDS,
    size: tuple[int, int] = (WIDTH, HEIGHT),
) -> RenderPlan:
    audio = folder / "narration.wav"
    if not audio.exists():
        write_tone(audio, seconds)
    length = seconds / scenes
    return RenderPlan(
        width=size[0],
        height=size[1],
        fps=FPS,
        scenes=[
            PlanScene(
                image=write_scene_image(folder / f"scene{i}.png", seed=i),
                start=i * length,
                duration=length,
            )
            for i in range(scenes)
        ],
        audio=audio,
        captions=captions,
        fonts_dir=fonts_dir(),
    )


@dataclass
class Rendered:
    plan: RenderPlan
    video: Path
    thumbnail: Path
    progress: list[float]


def render(
    plan: RenderPlan, folder: Path, name: str, renderer: FFmpegRenderer | None = None
) -> Rendered:
    progress: list[float] = []
    video, thumbnail = folder / f"{name}.mp4", folder / f"{name}-thumb.png"
    (renderer or FFmpegRenderer()).render(plan, video, thumbnail, progress.append)
    return Rendered(plan, video, thumbnail, progress)


def frame_at(video: Path, seconds: float, folder: Path) -> Image.Image:
    out = extract_frame(video, seconds, folder / f"{video.stem}-{seconds:.3f}.png")
    with Image.open(out) as frame:
        return frame.convert("L")


def band_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute luma difference inside the caption band."""
    diff = ImageChops.difference(a.crop(CAPTION_BAND), b.crop(CAPTION_BAND))
    return ImageStat.Stat(diff).mean[0]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("render")


@pytest.fixture(scope="module")
def captioned(folder: Path) -> Rendered:
    return render(make_plan(folder, captions=[ENGLISH_CUE, KOREAN_CUE]), folder, "captioned")


@pytest.fixture(scope="module")
def uncaptioned(folder: Path) -> Rendered:
    return render(make_plan(folder, captions=[]), folder, "uncaptioned")


def test_output_is_h264_aac_mp4_of_the_plan_size_fps_and_narration_length(
    captioned: Rendered,
) -> None:
    media = probe(captioned.video)
    assert "mp4" in media.format_name
    assert media.video is not None
    assert media.audio is not None
    assert (media.video.codec, media.video.pix_fmt) == ("h264", "yuv420p")
    assert (media.video.width, media.video.height) == (WIDTH, HEIGHT)
    assert media.video.fps == FPS
    assert media.video.frames == AUDIO_SECONDS * FPS
    assert media.audio.codec == "aac"
    assert media.audio.sample_rate == 48_000
    assert media.duration == pytest.approx(AUDIO_SECONDS, abs=0.1)


def test_captions_appear_while_their_cue_is_shown_and_not_after(
    captioned: Rendered, uncaptioned: Rendered, folder: Path
) -> None:
    during = band_difference(
        frame_at(captioned.video, 1.0, folder), frame_at(uncaptioned.video, 1.0, folder)
    )
    after = band_difference(
        frame_at(captioned.video, 3.6, folder), frame_at(uncaptioned.video, 3.6, folder)
    )
    assert during > 8
    assert after < 1.5


def test_hangul_captions_render_as_distinct_glyphs_not_tofu_boxes(folder: Path) -> None:
    """With a font lacking Hangul every syllable would draw the same box, so these would match."""
    write_tone(folder / "one.wav", 1.0)
    frames = {}
    for name, text in {"distinct": "가나다라마바", "repeated": "가가가가가가"}.items():
        plan = RenderPlan(
            width=WIDTH,
            height=HEIGHT,
            fps=FPS,
            scenes=[PlanScene(image=write_scene_image(folder / "one.png", 7), start=0, duration=1)],
            audio=folder / "one.wav",
            captions=[CaptionCue(text=text, start=0, end=1)],
            fonts_dir=fonts_dir(),
        )
        frames[name] = frame_at(render(plan, folder, name).video, 0.5, folder)
    assert band_difference(frames["distinct"], frames["repeated"]) > 2


def test_the_same_plan_renders_to_identical_bytes(captioned: Rendered, folder: Path) -> None:
    again = render(captioned.plan, folder, "again")
    assert again.video.read_bytes() == captioned.video.read_bytes()
    assert again.thumbnail.read_bytes() == captioned.thumbnail.read_bytes()


def test_progress_rises_to_one(captioned: Rendered) -> None:
    assert len(captioned.progress) > 1
    assert captioned.progress == sorted(set(captioned.progress))
    assert captioned.progress[-1] == 1.0


def test_thumbnail_is_a_frame_of_the_video_showing_a_caption(
    captioned: Rendered, uncaptioned: Rendered, folder: Path
) -> None:
    seconds = thumbnail_frame(captioned.plan, total_frames(AUDIO_SECONDS, FPS)) / FPS
    with Image.open(captioned.thumbnail) as thumbnail:
        assert thumbnail.size == (WIDTH, HEIGHT)
        thumb = thumbnail.convert("L")
    assert band_difference(thumb, frame_at(captioned.video, seconds, folder)) < 2
    assert band_difference(thumb, frame_at(uncaptioned.video, seconds, folder)) > 8


def test_thumbnail_frame_moves_to_the_caption_nearest_a_third_in(folder: Path) -> None:
    plan = make_plan(folder, captions=[ENGLISH_CUE, KOREAN_CUE])
    frames = total_frames(AUDIO_SECONDS, FPS)
    chosen = thumbnail_frame(plan, frames) / FPS
    assert ENGLISH_CUE.start < chosen < ENGLISH_CUE.end
    no_captions = plan.model_copy(update={"captions": []})
    assert thumbnail_frame(no_captions, frames) == round(frames / 3)


def test_missing_scene_image_is_a_render_error_naming_it(folder: Path) -> None:
    plan = make_plan(folder, captions=[])
    gone = folder / "gone.png"
    scenes = [plan.scenes[0], plan.scenes[1].model_copy(update={"image": gone}), plan.scenes[2]]
    plan = plan.model_copy(update={"scenes": scenes})
    with pytest.raises(RenderError, match=r"gone\.png"):
        FFmpegRenderer().render(plan, folder / "x.mp4", folder / "x.png")
    assert not (folder / "x.mp4").exists()


def test_missing_or_broken_narration_is_a_render_error_naming_it(folder: Path) -> None:
    plan = make_plan(folder, captions=[])
    for audio in (folder / "silence.wav", folder / "scene0.png"):
        broken = plan.model_copy(update={"audio": audio})
        with pytest.raises(RenderError, match=audio.name.replace(".", r"\.")):
            FFmpegRenderer().render(broken, folder / "x.mp4", folder / "x.png")


def test_plans_that_cannot_render_fail_before_ffmpeg_runs(folder: Path) -> None:
    plan = make_plan(folder, captions=[ENGLISH_CUE])
    late = plan.scenes[2].model_copy(update={"start": AUDIO_SECONDS + 1})
    zoom_out = plan.scenes[0].model_copy(update={"zoom_to": 0.9})
    broken = {
        "NoSuchFont": plan.model_copy(update={"font_family": "NoSuchFont"}),
        "gets no frames": plan.model_copy(update={"scenes": [*plan.scenes[:2], late]}),
        "zoom below 1": plan.model_copy(update={"scenes": [zoom_out, *plan.scenes[1:]]}),
        "size must be positive and even": plan.model_copy(update={"width": 361}),
    }
    for message, bad in broken.items():
        with pytest.raises(RenderError, match=message):
            FFmpegRenderer().render(bad, folder / "x.mp4", folder / "x.png")
    with pytest.raises(RenderError, match="thumbnail must be one of"):
        FFmpegRenderer().render(plan, folder / "x.mp4", folder / "x.gif")


def test_a_scene_with_a_fixed_zoom_renders(folder: Path) -> None:
    plan = make_plan(folder, captions=[])
    fixed = [scene.model_copy(update={"zoom_from": 1.05, "zoom_to": 1.05}) for scene in plan.scenes]
    rendered = render(plan.model_copy(update={"scenes": fixed}), folder, "fixed")
    media = probe(rendered.video)
    assert media.duration == pytest.approx(AUDIO_SECONDS, abs=0.1)


def test_scene_clips_cover_every_frame_and_overlap_only_for_dissolves(folder: Path) -> None:
    plan = make_plan(folder, captions=[])
    frames = total_frames(AUDIO_SECONDS, FPS)
    clips = scene_clips(plan, frames)
    assert clips[0].first == 0
    assert clips[-1].first + clips[-1].frames == frames
    for earlier, later in pairwise(clips):
        overlap = earlier.first + earlier.frames - later.first
        assert overlap == earlier.tail == later.head == round(plan.crossfade * FPS / 2) * 2
    cut = scene_clips(plan.model_copy(update={"crossfade": 0}), frames)
    assert sum(clip.frames for clip in cut) == frames


def test_zoom_runs_from_zoom_from_to_zoom_to_across_the_clip(folder: Path) -> None:
    plan = make_plan(folder, captions=[])
    clip = scene_clips(plan, total_frames(AUDIO_SECONDS, FPS))[1]
    zoom = clip.zoom_expression("n")
    zooms = [eval(zoom, {"n": n}) for n in range(clip.frames)]
    assert zooms[0] == pytest.approx(clip.zoom_from)
    assert zooms[-1] == pytest.approx(clip.zoom_to)
    assert zooms == sorted(zooms)


def marker_centroid(frame: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, float]:
    window = frame.crop(box)
    total = sx = sy = 0.0
    for index, value in enumerate(window.getdata()):
        weight = max(value - 40, 0)
        total += weight
        sx += weight * (index % window.width)
        sy += weight * (index // window.width)
    return box[0] + sx / total, box[1] + sy / total


def test_zoom_moves_details_smoothly_without_pixel_steps(folder: Path) -> None:
    """A dot near the corner must follow the ideal zoom path to a fraction of a pixel."""
    image = Image.new("L", (WIDTH, HEIGHT))
    ImageDraw.Draw(image).ellipse([300, 60, 312, 72], fill=255)
    image.filter(ImageFilter.GaussianBlur(1.5)).convert("RGB").save(folder / "dot.png")
    write_tone(folder / "two.wav", 2.0)
    plan = RenderPlan(
        width=WIDTH,
        height=HEIGHT,
        fps=FPS,
        scenes=[PlanScene(image=folder / "dot.png", start=0, duration=2, zoom_to=1.1)],
        audio=folder / "two.wav",
        captions=[],
        fonts_dir=fonts_dir(),
    )
    video = render(plan, folder, "dot", FFmpegRenderer(crf=0)).video
    centre_x, centre_y = (WIDTH - 1) / 2, (HEIGHT - 1) / 2
    residuals = []
    with av.open(str(video)) as container:
        for n, frame in enumerate(container.decode(video=0)):
            zoom = 1 + 0.1 * n / 59
            ideal = (centre_x + (306 - centre_x) * zoom, centre_y + (66 - centre_y) * zoom)
            box = (int(ideal[0]) - 15, int(ideal[1]) - 15, int(ideal[0]) + 15, int(ideal[1]) + 15)
            x, y = marker_centroid(frame.to_image().convert("L"), box)
            residuals.append((x - ideal[0], y - ideal[1]))
    assert len(residuals) == 60
    # A constant offset (centroid bias) is fine; jumps between frames are not.
    mean_x = sum(r[0] for r in residuals) / len(residuals)
    mean_y = sum(r[1] for r in residuals) / len(residuals)
    assert max(math.hypot(x - mean_x, y - mean_y) for x, y in residuals) < 0.2


def test_a_full_size_short_renders_at_1080x1920(folder: Path) -> None:
    big = folder / "big"
    big.mkdir()
    plan = make_plan(
        big,
        captions=[ENGLISH_CUE, KOREAN_CUE, CaptionCue(text="끝까지 봐 주세요", start=3.5, end=5.8)],
        scenes=3,
        seconds=6.0,
        size=(1080, 1920),
    )
    rendered = render(plan, big, "short")
    media = probe(rendered.video)
    assert media.video is not None
    assert (media.video.width, media.video.height) == (1080, 1920)
    assert media.duration == pytest.approx(6.0, abs=0.1)
    assert rendered.progress[-1] == 1.0
