"""Stage 5: the post-render audit and publication (after approval when the project asks)."""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from autoclip_assets.analysis import judged, verdict_metadata
from autoclip_assets.media import video
from autoclip_assets.partitions import content_items
from autoclip_assets.retries import RETRY, provider_call
from autoclip_core.pipeline_names import PARTITION_TAG, tagged_channels
from autoclip_core.render.probe import CorruptMediaError, measure_loudness, probe
from autoclip_core.safety.rules import check_text
from autoclip_core.schemas import (
    Narration,
    Publication,
    RenderedVideo,
    SafetyFinding,
    SafetyVerdict,
    Script,
    TopicSelection,
    credited_description,
)
from resources.app_database import AppDatabase
from resources.llm.base import LLMResource
from resources.publisher.base import PublisherResource, PublishRequest
from resources.renderer.base import RendererResource
from resources.storage.base import StorageResource

DURATION_RANGE_S = (5.0, 180.0)
LOUDNESS_RANGE_LUFS = (-30.0, -8.0)
CAPTION_COVERAGE_MIN = 0.6
"""At least this share of the narration time must carry a caption."""


def audit_video(
    rendered: RenderedVideo,
    narration: Narration,
    storage: StorageResource,
    *,
    local_render: bool = True,
) -> tuple[list[SafetyFinding], dict[str, Any]]:
    """Probe the file and list what is wrong with it (empty list: nothing). Caption coverage
    is judged by the narration's cues, which only our own engine draws from (``local_render``);
    a render service captions by its own transcription."""
    path = storage.local_path(rendered.video_key)
    findings: list[SafetyFinding] = []

    def fail(detail: str) -> None:
        findings.append(SafetyFinding(rule="media", detail=detail))

    try:
        info = probe(path)
    except CorruptMediaError as exc:
        fail(str(exc))
        return findings, {}
    if info.video is None:
        fail("no video stream")
    elif (info.video.width, info.video.height) != (rendered.width, rendered.height):
        fail(
            f"resolution {info.video.width}x{info.video.height}, "
            f"expected {rendered.width}x{rendered.height}"
        )
    if info.audio is None:
        fail("no audio stream")
    low, high = DURATION_RANGE_S
    if not low <= info.duration <= high:
        fail(f"duration {info.duration:.1f} s outside {low:.0f}–{high:.0f} s")
    if abs(info.duration - narration.duration) > 0.5:
        fail(f"duration {info.duration:.2f} s does not match narration {narration.duration:.2f} s")
    loudness = measure_loudness(path).integrated_lufs
    if not LOUDNESS_RANGE_LUFS[0] <= loudness <= LOUDNESS_RANGE_LUFS[1]:
        fail(f"loudness {loudness:.1f} LUFS outside {LOUDNESS_RANGE_LUFS}")
    captioned = sum(c.end - c.start for c in narration.cues)
    coverage = captioned / narration.duration if narration.duration else 0.0
    if local_render and coverage < CAPTION_COVERAGE_MIN:
        fail(f"captions cover {coverage:.0%} of the narration")
    metadata: dict[str, Any] = {
        "probed_duration_s": round(info.duration, 2),
        "probed_resolution": f"{info.video.width}x{info.video.height}" if info.video else "none",
        "audio": info.audio.codec if info.audio else "none",
        "loudness_lufs": round(loudness, 1),
        "caption_cues": len(narration.cues),
        "caption_coverage": round(coverage, 2) if local_render else "not judged: rendered remotely",
    }
    return findings, metadata


@dg.asset_check(
    asset=video,
    partitions_def=content_items,
    blocking=True,
    additional_ins={"narration": dg.AssetIn("narration"), "script": dg.AssetIn("script")},
    description="Probe of the render (duration, streams, resolution, loudness, captions) "
    "and the script re-checked by the safety rules, then by the LLM's safety judge when the "
    "provider has one.",
)
def safety_postcheck(
    context: dg.AssetCheckExecutionContext,
    video: RenderedVideo,
    narration: Narration,
    script: Script,
    storage: StorageResource,
    app_db: AppDatabase,
    llm: LLMResource,
    renderer: RendererResource,
) -> dg.AssetCheckResult:
    with provider_call(context):
        findings, metadata = audit_video(
            video, narration, storage, local_render=renderer.renders_locally
        )
    content_id = context.run.tags[PARTITION_TAG]
    project = app_db.projects.of_content(content_id)
    script_text = "\n".join(
        [
            script.title,
            *script.spoken_parts(),
            script.description,
            *(s.on_screen_text for s in script.scenes),
        ]
    )
    script_verdict = check_text(
        script_text, blocked_terms=list(project.blocked_terms), language=script.language
    )
    if not findings:
        script_verdict = judged(
            context,
            script_verdict,
            script_text,
            script.language,
            llm,
            content_id=content_id,
            app_db=app_db,
        )
    verdict = SafetyVerdict(
        passed=not findings and script_verdict.passed,
        findings=[*findings, *script_verdict.findings],
    )
    return dg.AssetCheckResult(
        passed=verdict.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"safety post-check: {verdict.reason}",
        metadata={**metadata, **verdict_metadata(verdict)},
    )


@dg.asset(
    partitions_def=content_items,
    retry_policy=RETRY,
    group_name="publish",
    output_required=False,
    pool="publisher",
)
def publication(
    context: dg.AssetExecutionContext,
    video: RenderedVideo,
    script: Script,
    topic_selection: TopicSelection,
    publisher: PublisherResource,
    storage: StorageResource,
    app_db: AppDatabase,
) -> Iterator[dg.Output[Publication]]:
    """The video on its channels (those a publish run names, else the item's route) — at
    once, or once approved when the project requires review."""
    content_id = context.partition_key
    project = app_db.projects.of_content(content_id)
    status = app_db.content.status(content_id)
    if project.review_required and status.approved_at is None:
        context.log.info(f"{content_id} awaits approval (project '{project.slug}' requires review)")
        return
    # The op context's tags: also set when the asset is invoked directly (tests).
    channels = tagged_channels(context.op_execution_context.run_tags) or topic_selection.channels
    if not channels:
        raise dg.Failure(
            description=f"no channel to publish to: project '{project.slug}' has no active "
            "local channel (add one: POST /api/v1/projects/{id}/channels)",
            allow_retries=False,
        )
    with provider_call(context):
        receipts = [
            publisher.publish(
                PublishRequest(
                    content_id=content_id,
                    channel=channel,
                    video=storage.local_path(video.video_key),
                    thumbnail=storage.local_path(video.thumbnail_key),
                    title=script.title,
                    description=credited_description(script.description, video.credits),
                    hashtags=script.hashtags,
                    language=script.language,
                )
            )
            for channel in channels
        ]
    result = Publication(status="published", receipts=receipts)
    app_db.content.mark_published(content_id, result.url)
    yield dg.Output(
        result,
        metadata={
            "channels": ", ".join(r.channel for r in receipts),
            "url": dg.MetadataValue.url(result.url),
            "receipts": dg.MetadataValue.json([r.model_dump(mode="json") for r in receipts]),
            "approved_by_review": project.review_required,
        },
    )
