"""Stage 4: narration, visuals and the rendered video.

Every file is stored under a content-addressed key: an unchanged input finds its file
already made (rerunning ``video`` after a template change does not redo narration).
"""

import base64
import io
import json
import shutil
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from PIL import Image

from autoclip_assets.partitions import content_items
from autoclip_assets.retries import RETRY, provider_call
from autoclip_core.db.media import media_file
from autoclip_core.nlp.phrases import split_caption_phrases
from autoclip_core.nlp.speech import speaking_seconds
from autoclip_core.render.captions import SIDECAR_SUFFIX, Transcript, words_from_cues
from autoclip_core.render.music import write_music_bed
from autoclip_core.render.probe import probe
from autoclip_core.render.renderscript import RenderScript
from autoclip_core.render.templates import (
    Json,
    build_render_script,
    find_element,
    repeat_element,
)
from autoclip_core.schemas import (
    CaptionCue,
    Language,
    Narration,
    NarrationSegment,
    RenderedVideo,
    SceneVisual,
    Script,
    TopicSelection,
    Visuals,
)
from resources.app_database import AppDatabase
from resources.renderer.base import RendererResource
from resources.storage.base import StorageResource, content_key, fingerprint
from resources.tts.base import SpeechClip, TTSResource
from resources.vendors.base import output_config
from resources.vendors.usage import recording_usage
from resources.visuals.base import SceneCard, VisualsResource

CAPTION_CHARS: dict[Language, int] = {"en": 30, "ko": 16}
CLIP_MARGIN = 1.25
"""A scene's clip is asked to outlast the scene's speech by this factor: pauses between
phrases are not in the speaking-rate estimate."""


# narration ----------------------------------------------------------------------------------


def speak_part(
    text: str, language: Language, tts: TTSResource, storage: StorageResource
) -> tuple[str, SpeechClip, bool]:
    """Speech for one script part, from storage when this exact speech was made before."""
    phrases = split_caption_phrases(text, language, CAPTION_CHARS[language])
    digest = fingerprint("speech", type(tts).__name__, output_config(tts), language, phrases)
    wav_key = content_key("narration", digest, ".wav")
    meta_key = content_key("narration", digest, ".json")
    if storage.exists(wav_key) and storage.exists(meta_key):
        return wav_key, SpeechClip.model_validate_json(storage.read_bytes(meta_key)), True
    with storage.writing(wav_key) as tmp:
        clip = tts.synthesize(phrases, language, tmp)
    storage.put_bytes(meta_key, clip.model_dump_json().encode())
    return wav_key, clip, False


def concatenate_wavs(paths: list[Path], out: Path) -> None:
    with wave.open(str(out), "wb") as writer:
        for i, path in enumerate(paths):
            with wave.open(str(path), "rb") as reader:
                if i == 0:
                    writer.setparams(reader.getparams())
                writer.writeframes(reader.readframes(reader.getnframes()))


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as reader:
        return reader.getnframes() / reader.getframerate()


@dg.asset(partitions_def=content_items, retry_policy=RETRY, group_name="media", pool="tts")
def narration(
    context: dg.AssetExecutionContext,
    script: Script,
    tts: TTSResource,
    storage: StorageResource,
    app_db: AppDatabase,
) -> Narration:
    """Speech for the hook, every scene and the call to action, with caption timings."""
    segments: list[NarrationSegment] = []
    reused = 0
    cursor = 0.0
    with (
        provider_call(context),
        recording_usage(context.partition_key, app_db.usage, app_db.documents) as calls,
    ):
        for part in script.spoken_parts():
            key, clip, cached = speak_part(part, script.language, tts, storage)
            reused += cached
            # Measure the real file: its length, not the estimate, drives the timeline.
            duration = wav_duration(storage.local_path(key))
            cues = [
                CaptionCue(
                    text=c.text, start=round(cursor + c.start, 3), end=round(cursor + c.end, 3)
                )
                for c in clip.cues
            ]
            segments.append(
                NarrationSegment(
                    text=part,
                    audio_key=key,
                    start=round(cursor, 3),
                    duration=round(duration, 3),
                    cues=cues,
                )
            )
            cursor += duration
        full_key = content_key(
            "narration", fingerprint("full", [s.audio_key for s in segments]), ".wav"
        )
        if not storage.exists(full_key):
            with storage.writing(full_key) as tmp:
                concatenate_wavs([storage.local_path(s.audio_key) for s in segments], tmp)
    result = Narration(
        language=script.language,
        voice=tts.voice_for(script.language),
        audio_key=full_key,
        duration=round(wav_duration(storage.local_path(full_key)), 3),
        segments=segments,
    )
    context.add_output_metadata(
        {
            "language": result.language,
            "voice": result.voice,
            "duration_s": result.duration,
            "segments": len(segments),
            "segment_durations_s": ", ".join(f"{s.duration:.2f}" for s in segments),
            "caption_cues": len(result.cues),
            "reused_from_storage": reused,
            "size_bytes": storage.size(full_key),
            **calls.metadata(),
        }
    )
    return result


# visuals ------------------------------------------------------------------------------------


def scene_cards(script: Script, width: int, height: int) -> list[SceneCard]:
    """One card per spoken part: a title card, each scene, an end card.

    The title and end cards are backgrounds only: the template sets their text. Each scene
    says about how long it is on screen, so a video vendor can give a clip that lasts.
    """
    heads = [
        ("", script.title, None),
        *(
            (s.on_screen_text, s.visual_query, scene_seconds(s.narration, script.language))
            for s in script.scenes
        ),
        ("", " ".join(script.hashtags), None),
    ]
    total = len(heads)
    return [
        SceneCard(
            headline=headline,
            query=query,
            keywords=query.split(),
            title=script.title,
            language=script.language,
            index=i,
            total=total,
            width=width,
            height=height,
            clip_seconds=seconds,
        )
        for i, (headline, query, seconds) in enumerate(heads, 1)
    ]


def scene_seconds(narration: str, language: Language) -> float:
    return max(1.0, round(speaking_seconds(narration, language) * CLIP_MARGIN, 1))


def scene_visual(
    card: SceneCard, key: str, visuals: VisualsResource, storage: StorageResource
) -> SceneVisual:
    """The card's visual made and stored under ``key``: its picture and, from a video vendor,
    its clip (beside it, as ``.mp4``)."""
    with tempfile.TemporaryDirectory(prefix="scene-clip-") as work:
        clip = Path(work) / "clip.mp4"
        with storage.writing(key) as tmp:
            result = visuals.scene_visual(card, tmp, clip)
        clip_key = key.removesuffix(".png") + ".mp4" if result.clip else None
        if clip_key is not None:
            with storage.writing(clip_key) as tmp_clip:
                shutil.move(clip, tmp_clip)
    return SceneVisual(
        image_key=key,
        origin=result.origin,
        matched_file=result.matched_file,
        source_id=result.source_id,
        credit=result.credit,
        clip_key=clip_key,
    )


@dg.asset(partitions_def=content_items, retry_policy=RETRY, group_name="media", pool="visuals")
def scene_images(
    context: dg.AssetExecutionContext,
    script: Script,
    topic_selection: TopicSelection,
    visuals: VisualsResource,
    storage: StorageResource,
    app_db: AppDatabase,
) -> Visuals:
    """One image per spoken part (title card, scenes, end card) at the template's size."""
    template = app_db.templates.source_for_content(context.partition_key, topic_selection.template)
    width, height = template["width"], template["height"]
    made: list[SceneVisual] = []
    reused = 0
    with (
        provider_call(context),
        recording_usage(context.partition_key, app_db.usage, app_db.documents) as calls,
    ):
        for blank in scene_cards(script, width, height):
            # No picture twice in one video: each card names the ones already chosen.
            card = blank.model_copy(update={"avoid": [v.source_id for v in made if v.source_id]})
            key = content_key(
                "visuals", fingerprint("card", visuals.fingerprint_inputs(), card), ".png"
            )
            origin_key = key + ".json"
            if storage.exists(key) and storage.exists(origin_key):
                made.append(SceneVisual.model_validate_json(storage.read_bytes(origin_key)))
                reused += 1
                continue
            visual = scene_visual(card, key, visuals, storage)
            storage.put_bytes(origin_key, visual.model_dump_json().encode())
            made.append(visual)
    context.add_output_metadata(
        {
            "images": len(made),
            "size": f"{width}x{height}",
            "from_library": sum(v.origin == "library" for v in made),
            "video_clips": sum(v.clip_key is not None for v in made),
            "reused_from_storage": reused,
            "total_bytes": sum(storage.size(v.image_key) for v in made),
            **calls.metadata(),
        }
    )
    return Visuals(width=width, height=height, scenes=made)


# video --------------------------------------------------------------------------------------

MUSIC_KEY = "music/ambient-bed-v1.wav"


def music_bed(storage: StorageResource) -> Path:
    """The synthesised background-music loop, made once per storage."""
    if not storage.exists(MUSIC_KEY):
        with storage.writing(MUSIC_KEY) as tmp:
            write_music_bed(tmp)
    return storage.local_path(MUSIC_KEY)


def narration_with_transcript(narration: Narration, storage: StorageResource) -> Path:
    """The narration WAV, with the word-timing sidecar the local renderer's captions read."""
    sidecar = narration.audio_key + SIDECAR_SUFFIX
    if not storage.exists(sidecar):
        words = Transcript(words=words_from_cues(narration.cues))
        storage.put_bytes(sidecar, words.model_dump_json().encode())
    return storage.local_path(narration.audio_key)


Locate = Callable[[str], str]
"""A storage key -> the source a renderer reads it from."""


def template_modifications(
    script: Script,
    narration: Narration,
    visuals: Visuals,
    storage: StorageResource,
    locate: Locate | None = None,
) -> dict[str, object]:
    """Fill the template: title card, one ``Scene`` per scene, end card, voice and music, each
    file as ``locate`` names it (by default its local path)."""
    if len(visuals.scenes) != len(narration.segments) or len(narration.segments) < 3:
        raise ValueError(
            f"{len(visuals.scenes)} visuals for {len(narration.segments)} narration segments"
        )
    where = locate or (lambda key: str(storage.local_path(key)))
    hook, *scenes, end = narration.segments
    images = [where(v.image_key) for v in visuals.scenes]
    narration_with_transcript(narration, storage)
    music_bed(storage)
    modifications: dict[str, object] = {
        "Title-Card.duration": hook.duration,
        "Title-Background": images[0],
        "Title": script.title,
        "End-Card.time": end.start,
        "End-Card.duration": end.duration,
        "End-Background": images[-1],
        "End-Text": script.call_to_action,
        "Narration": where(narration.audio_key),
        "Music": where(MUSIC_KEY),
    }
    for n, (segment, image, visual) in enumerate(
        zip(scenes, images[1:-1], visuals.scenes[1:-1], strict=True), 1
    ):
        if visual.clip_key is None:
            modifications[f"Scene-{n}.source"] = image
        else:
            modifications[f"Scene-{n}{CLIP_SUFFIX}.source"] = where(visual.clip_key)
            modifications[f"Scene-{n}{OVERLAY_SUFFIX}.source"] = image
        modifications[f"Scene-{n}.time"] = segment.start
        modifications[f"Scene-{n}.duration"] = segment.duration
    return modifications


CLIP_SUFFIX, OVERLAY_SUFFIX = "-Clip", "-Overlay"
SCENE_MEDIA_FIELDS = frozenset(
    {"type", "source", "fit", "volume", "audio_fade_in", "audio_fade_out", "trim_start",
     "trim_duration", "loop"}
)  # fmt: skip


def with_clip(data: Json, name: str) -> Json:
    """``data`` with the image or video element ``name`` turned into a composition of the
    same place, time and animations: the scene's clip (muted, looped should it end early)
    under its overlay image."""
    element = find_element(data, name)
    if element is None or element.get("type") not in ("image", "video"):
        raise ValueError(f"a scene with a video clip needs an image or video element {name!r}")
    fit = element.get("fit", "cover")
    kept = {k: v for k, v in element.items() if k not in SCENE_MEDIA_FIELDS}
    element.clear()
    element.update(
        kept,
        type="composition",
        fill_color="#000000",
        elements=[
            {"name": name + CLIP_SUFFIX, "type": "video", "source": "clip.mp4", "fit": fit,
             "volume": "0%", "loop": True},
            {"name": name + OVERLAY_SUFFIX, "type": "image", "source": "overlay.png",
             "fit": "cover"},
        ],
    )  # fmt: skip
    return data


def render_script(
    template: Json,
    script: Script,
    narration: Narration,
    visuals: Visuals,
    storage: StorageResource,
    locate: Locate | None = None,
) -> RenderScript:
    """The template (a built-in or the organisation's own) with as many scenes as the script,
    filled in; a scene with a video clip shows it under its overlay."""
    data = repeat_element(template, "Scene", len(script.scenes))
    for n, visual in enumerate(visuals.scenes[1:-1], 1):
        if visual.clip_key is not None:
            data = with_clip(data, f"Scene-{n}")
    modifications = template_modifications(script, narration, visuals, storage, locate)
    return build_render_script(data, modifications)


def storage_key(key: str) -> str:
    """A file named by its storage key: what a renderer that fetches media itself is given."""
    return key


def record_media(
    content_id: str,
    rendered: RenderedVideo,
    narration: Narration,
    storage: StorageResource,
    app_db: AppDatabase,
) -> None:
    """Tell the app database which stored files are this item's video, thumbnail, narration
    and captions (its caption phrases, stored content-addressed), so the API can serve them."""
    cues = [c.model_dump(mode="json") for c in narration.cues]
    captions_key = content_key("captions", fingerprint("cues", cues), ".json")
    if not storage.exists(captions_key):
        storage.put_bytes(captions_key, json.dumps({"cues": cues}, ensure_ascii=False).encode())
    files = {
        "video": (rendered.video_key, "video/mp4"),
        "thumbnail": (rendered.thumbnail_key, "image/jpeg"),
        "audio": (narration.audio_key, "audio/wav"),
        "captions": (captions_key, "application/json"),
    }
    app_db.media.record(
        content_id,
        {kind: media_file(key, kind_type, storage.size(key)) for kind, (key, kind_type)
         in files.items()},
    )  # fmt: skip


def thumbnail_markdown(path: Path, width: int = 216) -> str:
    with Image.open(path) as image:
        image.thumbnail((width, width * 2))
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "JPEG", quality=80)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f"![thumbnail](data:image/jpeg;base64,{data})"


@dg.asset(partitions_def=content_items, retry_policy=RETRY, group_name="media", pool="renderer")
def video(
    context: dg.AssetExecutionContext,
    script: Script,
    narration: Narration,
    scene_images: Visuals,
    topic_selection: TopicSelection,
    renderer: RendererResource,
    storage: StorageResource,
    app_db: AppDatabase,
) -> RenderedVideo:
    """The H.264/AAC mp4: the project's template filled with this item's media and text."""
    template = app_db.templates.source_for_content(context.partition_key, topic_selection.template)
    with (
        provider_call(context),
        recording_usage(context.partition_key, app_db.usage, app_db.documents) as calls,
    ):
        # The template may name its renderer; one that fetches media is given storage keys.
        chosen = renderer.chosen(template.get("renderer"))
        locate = None if chosen.renders_locally else storage_key
        render = render_script(template, script, narration, scene_images, storage, locate)
        digest = fingerprint(
            "video",
            type(chosen).__name__,
            output_config(chosen),
            render.model_dump(mode="json"),
            narration.cues,
        )
        video_key = content_key("video", digest, ".mp4")
        thumb_key = content_key("video", digest, ".jpg")
        stats_key = content_key("video", digest, ".json")
        cached = all(storage.exists(k) for k in (video_key, thumb_key, stats_key))
        if cached:
            render_seconds = json.loads(storage.read_bytes(stats_key))["render_seconds"]
        else:
            last_logged = [-1]

            def progress(fraction: float) -> None:
                decile = int(fraction * 10)
                if decile > last_logged[0]:
                    last_logged[0] = decile
                    context.log.info(f"rendering {context.partition_key}: {fraction:.0%}")

            started = time.perf_counter()
            with storage.writing(video_key) as tmp_video, storage.writing(thumb_key) as tmp_thumb:
                chosen.render(
                    render,
                    tmp_video,
                    media_dir=storage.local_path(narration.audio_key).parent,
                    snapshot=tmp_thumb,
                    progress=progress,
                )
            render_seconds = round(time.perf_counter() - started, 2)
            storage.put_bytes(stats_key, json.dumps({"render_seconds": render_seconds}).encode())
    result = RenderedVideo(
        video_key=video_key,
        thumbnail_key=thumb_key,
        duration=probe(storage.local_path(video_key)).duration,
        width=render.width,
        height=render.height,
        fps=render.frame_rate,
        size_bytes=storage.size(video_key),
        render_seconds=render_seconds,
        template=topic_selection.template,
        cached=cached,
        credits=[v.credit for v in scene_images.scenes if v.credit is not None],
        local_render=chosen.renders_locally,
    )
    record_media(context.partition_key, result, narration, storage, app_db)
    context.add_output_metadata(
        {
            "path": dg.MetadataValue.path(str(storage.local_path(video_key))),
            "duration_s": round(result.duration, 2),
            "resolution": f"{result.width}x{result.height}",
            "size_bytes": result.size_bytes,
            "render_seconds": result.render_seconds,
            "realtime_factor": round(result.duration / max(render_seconds, 1e-6), 2),
            "reused_from_storage": cached,
            "preview": dg.MetadataValue.md(thumbnail_markdown(storage.local_path(thumb_key))),
            **calls.metadata(),
        }
    )
    return result
