"""Stock video clips in the pipeline's visuals and render: each scene card says how long it
is on screen, a clip is stored beside its overlay, and the template's scene becomes the clip
under its overlay, rendered by our engine."""

from __future__ import annotations

import json
import wave
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr

from autoclip_assets.definitions import build_definitions
from autoclip_assets.media import render_script, scene_cards, scene_visual, with_clip
from autoclip_core.db.templates import TemplateRepository
from autoclip_core.render.probe import probe
from autoclip_core.render.renderscript import CompositionElement, ImageElement, VideoElement
from autoclip_core.render.templates import find_element, load_template
from autoclip_core.schemas import (
    CaptionCue,
    Narration,
    NarrationSegment,
    RenderedVideo,
    Scene,
    Script,
    Visuals,
)
from resources.renderer.ffmpeg import FFmpegRenderer
from resources.storage.base import content_key, fingerprint
from resources.storage.filesystem import FilesystemStorage
from resources.visuals.pexels import PexelsVisuals
from tests.assets.conftest import Pipeline, make_pipeline, sample_items
from tests.fakes.pexels import VIDEO_SEARCH, FakePexels
from tests.fakes.server import FakeServer

__all__ = ["sample_items"]

pytestmark = pytest.mark.usefixtures("allow_loopback")

WIDTH, HEIGHT = 180, 320
SEGMENT_S = 1.5
SCRIPT = Script(
    title="Drones on the farm",
    hook="Farms are changing.",
    scenes=[
        Scene(
            narration="Drones spray the crops from above the field today.",
            on_screen_text="Drones spray crops",
            visual_query="drone field",
        ),
        Scene(
            narration="They use a third less fertiliser.",
            on_screen_text="A third less",
            visual_query="fertiliser tractor",
        ),
        Scene(
            narration="Farmers save time and money.",
            on_screen_text="Time and money",
            visual_query="farmer harvest",
        ),
    ],
    call_to_action="Follow for more.",
    hashtags=["#farming"],
    description="Drones on the farm.",
    language="en",
)


def test_scene_cards_ask_for_clips_as_long_as_the_scene_is_spoken_title_and_end_for_stills() -> (
    None
):
    cards = scene_cards(SCRIPT, WIDTH, HEIGHT)
    assert [c.clip_seconds is None for c in cards] == [True, False, False, False, True]
    long_scene, short_scene = cards[1].clip_seconds, cards[2].clip_seconds
    assert long_scene is not None
    assert short_scene is not None
    # 9 words at 165 a minute is 3.3 s of speech; the clip is asked to outlast it.
    assert long_scene > 3.3
    assert long_scene > short_scene


def write_wav(path: Path, seconds: float) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * round(16000 * seconds))


def narration(storage: FilesystemStorage) -> Narration:
    parts = SCRIPT.spoken_parts()
    key = "narration/aa/full.wav"
    with storage.writing(key) as tmp:
        write_wav(tmp, SEGMENT_S * len(parts))
    segments = [
        NarrationSegment(
            text=text,
            audio_key=key,
            start=n * SEGMENT_S,
            duration=SEGMENT_S,
            cues=[CaptionCue(text=text, start=n * SEGMENT_S, end=(n + 1) * SEGMENT_S - 0.1)],
        )
        for n, text in enumerate(parts)
    ]
    return Narration(
        language="en",
        voice="test",
        audio_key=key,
        duration=SEGMENT_S * len(parts),
        segments=segments,
    )


@pytest.fixture
def storage(tmp_path: Path) -> FilesystemStorage:
    return FilesystemStorage(root=str(tmp_path / "media"))


@pytest.fixture
def clip_visuals(fake_server: FakeServer, storage: FilesystemStorage, tmp_path: Path) -> Visuals:
    """The script's visuals from Pexels in video mode: scenes get clips, title and end photos."""
    fake = FakePexels(fake_server, default_video_seconds=5)
    pexels = PexelsVisuals(
        base_url=fake.base_url,
        api_key=fake.api_key,
        cache_dir=str(tmp_path / "cache"),
        timeout_s=5.0,
        requests_per_minute={"pexels": 0},
        media="video",
    )
    made = []
    for blank in scene_cards(SCRIPT, WIDTH, HEIGHT):
        card = blank.model_copy(update={"avoid": [v.source_id for v in made if v.source_id]})
        key = content_key("visuals", fingerprint("card", pexels.fingerprint_inputs(), card), ".png")
        made.append(scene_visual(card, key, pexels, storage))
    assert len(fake_server.hits(VIDEO_SEARCH)) == len(SCRIPT.scenes)
    return Visuals(width=WIDTH, height=HEIGHT, scenes=made)


def small_template() -> dict:
    template = load_template("short")
    return template | {"width": WIDTH, "height": HEIGHT, "frame_rate": 15}


def test_each_scene_clip_is_stored_beside_its_overlay_and_shown_once(
    clip_visuals: Visuals, storage: FilesystemStorage
) -> None:
    scenes = clip_visuals.scenes
    assert [s.clip_key is not None for s in scenes] == [False, True, True, True, False]
    clips = [s for s in scenes if s.clip_key is not None]
    assert len({s.source_id for s in clips}) == 3
    for scene in clips:
        assert scene.clip_key is not None
        assert scene.clip_key == scene.image_key.removesuffix(".png") + ".mp4"
        assert probe(storage.local_path(scene.clip_key)).video is not None
        assert scene.credit is not None
        assert scene.credit.medium == "video"


def test_a_clip_scene_renders_as_the_clip_under_its_overlay_and_photo_scenes_stay_as_they_were(
    clip_visuals: Visuals, storage: FilesystemStorage, tmp_path: Path
) -> None:
    voice = narration(storage)
    script = render_script(small_template(), SCRIPT, voice, clip_visuals, storage)
    elements = {e.name: e for e in script.elements}
    for n, visual in enumerate(clip_visuals.scenes[1:-1], 1):
        scene = elements[f"Scene-{n}"]
        assert isinstance(scene, CompositionElement)
        assert (scene.time, scene.duration) == (n * SEGMENT_S, SEGMENT_S)
        assert [a.type for a in scene.animations] == ["scale", "fade"]
        clip, overlay = scene.elements
        assert isinstance(clip, VideoElement)
        assert isinstance(overlay, ImageElement)
        assert visual.clip_key is not None
        assert clip.source == str(storage.local_path(visual.clip_key))
        assert (clip.volume, clip.loop) == ("0%", True)
        assert overlay.source == str(storage.local_path(visual.image_key))

    out = tmp_path / "short.mp4"
    stats = FFmpegRenderer().render(
        script, out, media_dir=storage.local_path(voice.audio_key).parent
    )
    info = probe(out)
    assert info.video is not None
    assert (info.video.width, info.video.height) == (WIDTH, HEIGHT)
    assert abs(info.duration - voice.duration) < 0.2
    for visual in clip_visuals.scenes[1:-1]:
        assert visual.clip_key is not None
        assert str(storage.local_path(visual.clip_key)) in stats.command


def test_a_template_without_a_media_scene_cannot_take_a_clip() -> None:
    template = small_template()
    scene = find_element(template, "Scene")
    assert scene is not None
    scene.clear()
    scene.update(name="Scene", type="text", text="x")
    with pytest.raises(ValueError, match="needs an image or video element 'Scene'"):
        with_clip(template, "Scene")


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    yield from make_pipeline(tmp_path / "pipeline")


def test_in_video_mode_the_pipeline_shows_a_clip_per_scene_and_credits_each(
    pipeline: Pipeline,
    fake_server: FakeServer,
    sample_items: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quarter = load_template("short") | {"width": 270, "height": 480}
    monkeypatch.setattr(TemplateRepository, "source_for_content", lambda *_: quarter)
    FakePexels(fake_server, one_catalogue=True, default_video_seconds=20)
    settings = pipeline.settings.model_copy(
        update={
            "visuals_provider": "pexels,local",
            "stock_media": "video",
            "pexels_api_key": SecretStr("pexels-test-key"),
            "pexels_base_url": fake_server.base,
            "vendor_requests_per_minute": {"pexels": 0},
        }
    )
    pipeline = replace(pipeline, defs=build_definitions(settings))
    result = pipeline.run("content_job", pipeline.add(sample_items["en"]))
    assert result.success

    visuals: Visuals = result.output_for_node("scene_images")
    scenes = visuals.scenes[1:-1]
    assert all(s.clip_key is not None for s in scenes)
    assert len({s.source_id for s in scenes}) == len(scenes)
    assert all(str(s.source_id).startswith("pexels-video:") for s in scenes)
    assert visuals.scenes[0].clip_key is None
    assert visuals.scenes[-1].clip_key is None
    video: RenderedVideo = result.output_for_node("video")
    assert video.local_render
    assert [c.medium for c in video.credits].count("video") == len(scenes)
    channel = pipeline.settings.root / "channels" / "local" / "index.json"
    [entry] = json.loads(channel.read_text(encoding="utf-8"))["videos"]
    assert "Video by Videographer" in entry["description"]
