"""The whole per-item pipeline on local providers, English and Korean, end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster import DagsterEventType
from PIL import Image

from autoclip_assets.definitions import ASSETS
from autoclip_assets.media import narration
from autoclip_core.render.ffmpeg_binary import ffmpeg_exe
from autoclip_core.render.fonts import font_path
from autoclip_core.render.probe import probe
from autoclip_core.schemas import Narration, RenderedVideo, Script, SourceItem
from autoclip_core.states import ContentState
from resources.tts.espeak import EspeakTTS
from sensors.approvals import approval_sensor
from sensors.run_status import sync_run
from tests.assets.conftest import Pipeline

ROOT = Path(__file__).resolve().parents[2]


def run_and_sync(pipeline: Pipeline, job: str, content_id: str, **kw) -> dg.ExecuteInProcessResult:
    result = pipeline.run(job, content_id, **kw)
    run = pipeline.instance.get_run_by_id(result.run_id)
    assert run is not None
    sync_run(pipeline.app_db.database, pipeline.instance, run, dg.DagsterRunStatus.STARTED)
    sync_run(pipeline.app_db.database, pipeline.instance, run, run.status)
    return result


def materialization_metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)
    ]
    return event.step_materialization_data.materialization.metadata


def frame_at(video: Path, t: float, out: Path) -> Image.Image:
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-ss",
            f"{t:.3f}",
            "-i",
            str(video),
            "-frames:v",
            "1",
            str(out),
        ],
        check=True,
    )
    return Image.open(out).convert("RGB")


def white_pixels(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    region = image.crop(box).convert("L")
    return sum(1 for v in region.getdata() if v > 235)


@pytest.fixture(scope="module")
def english_run(pipeline: Pipeline, sample_items: dict[str, SourceItem]):  # type: ignore[no-untyped-def]
    content_id = pipeline.add(sample_items["en"])
    return content_id, run_and_sync(pipeline, "content_job", content_id)


@pytest.fixture(scope="module")
def korean_run(pipeline: Pipeline, sample_items: dict[str, SourceItem]):  # type: ignore[no-untyped-def]
    content_id = pipeline.add(sample_items["ko"])
    return content_id, run_and_sync(pipeline, "content_job", content_id)


def test_definitions_load_and_validate(tmp_path: Path) -> None:
    env = {"AUTOCLIP_DATA_DIR": str(tmp_path), "DAGSTER_HOME": str(tmp_path), "PATH": "/usr/bin"}
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "definitions",
            "validate",
            "-w",
            str(ROOT / "workspace.yaml"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation successful" in done.stdout + done.stderr


def test_english_item_becomes_a_published_short(pipeline: Pipeline, english_run) -> None:  # type: ignore[no-untyped-def]
    content_id, result = english_run
    assert result.success
    status = pipeline.app_db.content.status(content_id)
    assert status.state == ContentState.PUBLISHED
    assert [e[1] for e in pipeline.app_db.content.events(content_id)] == [
        "draft",
        "processing",
        "ready",
        "published",
    ]
    jobs = pipeline.app_db.jobs.of_content(content_id)
    assert [(j[1], j[2]) for j in jobs] == [("content_job", "completed")]

    video: RenderedVideo = result.output_for_node("video")
    info = probe(pipeline.defs.resources["storage"].local_path(video.video_key))
    assert info.video is not None
    assert info.audio is not None
    assert (info.video.width, info.video.height) == (1080, 1920)
    assert info.video.codec == "h264"
    assert info.audio.codec == "aac"
    assert round(info.video.fps) == 30
    assert 15 <= info.duration <= 90

    published = Path(status.published_url.removeprefix("file://"))  # type: ignore[union-attr]
    assert published.is_file()
    assert published.parent.joinpath("index.json").is_file()


def test_english_captions_follow_the_script_and_are_burned_in(
    pipeline: Pipeline,
    english_run,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    _, result = english_run
    script: Script = result.output_for_node("script")
    spoken: Narration = result.output_for_node("narration")
    assert " ".join(c.text for c in spoken.cues).split() == " ".join(script.spoken_parts()).split()
    ends = [c.end for c in spoken.cues]
    assert ends == sorted(ends)
    assert ends[-1] <= spoken.duration

    video: RenderedVideo = result.output_for_node("video")
    path = pipeline.defs.resources["storage"].local_path(video.video_key)
    cue = spoken.cues[len(spoken.cues) // 2]
    frame = frame_at(path, (cue.start + cue.end) / 2, tmp_path / "frame.png")
    caption_band = (0, int(1920 * 0.55), 1080, int(1920 * 0.9))
    assert white_pixels(frame, caption_band) > 2000  # caption glyphs, white on the dark band


def test_materializations_carry_readable_metadata(english_run) -> None:  # type: ignore[no-untyped-def]
    _, result = english_run
    assert materialization_metadata(result, "content_analysis")["language"].value == "en"
    assert materialization_metadata(result, "content_analysis")["word_count"].value > 300
    assert materialization_metadata(result, "narration")["duration_s"].value > 10
    video_meta = materialization_metadata(result, "video")
    assert video_meta["size_bytes"].value > 100_000
    assert "data:image/jpeg;base64," in video_meta["preview"].value
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["safety_precheck"].passed
    assert checks["safety_postcheck"].passed
    assert checks["safety_postcheck"].metadata["loudness_lufs"].value < -8


def test_korean_item_speaks_and_captions_in_hangul(
    pipeline: Pipeline,
    korean_run,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    content_id, result = korean_run
    assert result.success, pipeline.app_db.content.status(content_id)
    script: Script = result.output_for_node("script")
    spoken: Narration = result.output_for_node("narration")
    assert script.language == "ko"
    assert spoken.voice == "ko"
    hangul = {ch for cue in spoken.cues for ch in cue.text if "\uac00" <= ch <= "\ud7a3"}
    assert len(hangul) > 30
    # Every syllable has a real glyph in the caption font (tofu = the .notdef box).
    from PIL import ImageFont

    font = ImageFont.truetype(str(font_path(bold=True)), 48)

    def glyph(ch: str) -> bytes:
        mask = font.getmask(ch)
        return bytes(mask) + bytes(mask.size)

    notdef = glyph("\uffff")
    assert all(glyph(ch) != notdef for ch in hangul)

    video: RenderedVideo = result.output_for_node("video")
    path = pipeline.defs.resources["storage"].local_path(video.video_key)
    info = probe(path)
    assert 15 <= info.duration <= 90
    cue = spoken.cues[2]
    frame = frame_at(path, (cue.start + cue.end) / 2, tmp_path / "ko.png")
    assert white_pixels(frame, (0, int(1920 * 0.55), 1080, int(1920 * 0.9))) > 2000
    assert pipeline.app_db.content.status(content_id).state == ContentState.PUBLISHED


def test_rerun_reuses_stored_narration_visuals_and_render(pipeline: Pipeline, english_run) -> None:  # type: ignore[no-untyped-def]
    content_id, _ = english_run
    again = run_and_sync(pipeline, "content_job", content_id)
    assert again.success
    narration_meta = materialization_metadata(again, "narration")
    assert narration_meta["reused_from_storage"].value == narration_meta["segments"].value
    assert materialization_metadata(again, "scene_images")["reused_from_storage"].value > 0
    assert again.output_for_node("video").cached is True


def bad_item(base: SourceItem, project: str, extra: str) -> SourceItem:
    return base.model_copy(
        update={
            "id": f"{project}-{abs(hash(extra)) % 10**12:012d}",
            "project": project,
            "text": base.text + "\n\n" + extra,
        }
    )


def test_pii_stops_the_item_at_the_precheck_with_the_reason(
    pipeline: Pipeline, sample_items: dict[str, SourceItem]
) -> None:
    item = bad_item(
        sample_items["en"],
        "demo",
        "Readers can reach the reporter at jane.doe@example.com or 010-1234-5678.",
    )
    content_id = pipeline.add(item)
    result = run_and_sync(pipeline, "content_job", content_id)
    assert not result.success
    status = pipeline.app_db.content.status(content_id)
    assert status.state == ContentState.FAILED
    assert "pii_email" in (status.reason or "")
    assert "pii_phone" in (status.reason or "")
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "script" not in materialized
    assert "video" not in materialized
    assert pipeline.app_db.jobs.of_content(content_id)[-1][2] == "failed"


def test_project_blocked_terms_stop_the_item(
    pipeline: Pipeline, sample_items: dict[str, SourceItem]
) -> None:
    pipeline.app_db.projects.ensure("strict", blocked_terms=["heat pump"])
    item = sample_items["en"].model_copy(update={"id": "strict-000000000001", "project": "strict"})
    content_id = pipeline.add(item)
    run_and_sync(pipeline, "content_job", content_id)
    status = pipeline.app_db.content.status(content_id)
    assert status.state == ContentState.FAILED
    assert "blocked_term" in (status.reason or "")


def test_too_short_item_is_not_selected(
    pipeline: Pipeline, sample_items: dict[str, SourceItem]
) -> None:
    item = sample_items["en"].model_copy(
        update={"id": "demo-short0000001", "text": "A short note. Nothing else to say here."}
    )
    content_id = pipeline.add(item)
    result = run_and_sync(pipeline, "content_job", content_id)
    assert not result.success
    status = pipeline.app_db.content.status(content_id)
    assert status.state == ContentState.FAILED
    assert (status.reason or "").startswith("not selected")


def test_review_required_waits_for_approval_then_publishes(
    pipeline: Pipeline,
    sample_items: dict[str, SourceItem],
    english_run,  # type: ignore[no-untyped-def]
) -> None:
    pipeline.app_db.projects.ensure("reviewed", review_required=True)
    item = sample_items["en"].model_copy(update={"id": "reviewed-00000001", "project": "reviewed"})
    content_id = pipeline.add(item)
    result = run_and_sync(pipeline, "content_job", content_id)
    assert result.success
    assert pipeline.app_db.content.status(content_id).state == ContentState.READY
    assert "publication" not in {
        e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
    }

    context = dg.build_sensor_context(
        instance=pipeline.instance, resources={"app_db": pipeline.defs.resources["app_db"]}
    )
    assert approval_sensor(context).run_requests == []
    pipeline.app_db.content.approve(content_id, by="editor")
    [request] = approval_sensor(context).run_requests
    assert request.partition_key == content_id

    published = run_and_sync(pipeline, "publish_job", content_id)
    assert published.success
    status = pipeline.app_db.content.status(content_id)
    assert status.state == ContentState.PUBLISHED
    assert status.published_url


def test_transient_failures_are_retried_until_success(
    pipeline: Pipeline,
    english_run,  # type: ignore[no-untyped-def]
) -> None:
    calls = [0]

    class Flaky(EspeakTTS):
        """Fails the first two calls, like a provider having a bad minute."""

        def synthesize(self, phrases, language, out_wav):  # type: ignore[no-untyped-def]
            calls[0] += 1
            if calls[0] <= 2:
                raise ConnectionError("TTS provider unavailable (injected)")
            return super().synthesize(phrases, language, out_wav)

    content_id, _ = english_run
    resources = {**pipeline.defs.resources, "tts": Flaky(rate_wpm=171)}  # new voice: no cache
    result = dg.materialize(
        ASSETS,
        partition_key=content_id,
        instance=pipeline.instance,
        resources=resources,
        selection=[narration.key],
        raise_on_error=False,
    )
    assert result.success
    retries = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_UP_FOR_RETRY]
    assert len(retries) == 2
