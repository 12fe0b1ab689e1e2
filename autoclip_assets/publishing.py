"""Stage 5: the post-render audit and publication (after approval when the project asks)."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from autoclip_assets.analysis import judged, verdict_metadata
from autoclip_assets.media import video
from autoclip_assets.partitions import content_items
from autoclip_assets.retries import RETRY, provider_call
from autoclip_core.db.engine import Database
from autoclip_core.db.uploads import UploadRepository, exclusive
from autoclip_core.pipeline_names import PARTITION_TAG, tagged_channels
from autoclip_core.render.probe import CorruptMediaError, measure_loudness, probe
from autoclip_core.safety.rules import check_text
from autoclip_core.schemas import (
    Narration,
    Publication,
    PublishReceipt,
    RenderedVideo,
    SafetyFinding,
    SafetyVerdict,
    Script,
    TopicSelection,
    credited_description,
)
from resources.app_database import AppDatabase
from resources.errors import QuotaExhausted, ReconnectRequired
from resources.llm.base import LLMResource
from resources.publisher.accounts import ChannelAccounts
from resources.publisher.base import PublisherResource, PublishRequest
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
) -> dg.AssetCheckResult:
    with provider_call(context):
        findings, metadata = audit_video(video, narration, storage, local_render=video.local_render)
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
    accounts: ChannelAccounts,
    storage: StorageResource,
    app_db: AppDatabase,
) -> Iterator[dg.Output[Publication]]:
    """The video on its channels (those a publish run names, else the item's route) — at
    once, or once approved when the project requires review.

    Each channel is published at most once: a channel whose upload is published is reported
    from its record; the others are marked ``uploading`` before the publisher is called with
    the upload's journal (a resumed session continues where it stopped). An upload that must
    wait — the quota's next window, a channel to reconnect — is left ``waiting`` (the
    ``upload_retry_sensor`` asks again), not failed."""
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
            description=f"no channel to publish to: project '{project.slug}' has no channel "
            "that publishes (add one: POST /api/v1/projects/{id}/channels)",
            allow_retries=False,
        )
    request = PublishRequest(
        content_id=content_id,
        channel="",
        video=storage.local_path(video.video_key),
        thumbnail=storage.local_path(video.thumbnail_key),
        title=script.title,
        description=credited_description(script.description, video.credits),
        hashtags=script.hashtags,
        language=script.language,
    )
    receipts: list[PublishReceipt] = []
    waits: dict[str, str] = {}
    with provider_call(context):
        for channel in channels:
            outcome = publish_once(
                app_db.database,
                publisher,
                accounts,
                request.model_copy(update={"channel": channel}),
            )
            if isinstance(outcome, PublishReceipt):
                receipts.append(outcome)
            else:
                waits[channel] = outcome
                context.log.warning(f"{content_id} on {channel} waits: {outcome}")
    if not receipts:
        context.log.info(f"{content_id}: no channel published yet ({len(waits)} waiting)")
        return
    result = Publication(status="published", receipts=receipts)
    app_db.content.mark_published(content_id, result.url)
    yield dg.Output(
        result,
        metadata={
            "channels": ", ".join(r.channel for r in receipts),
            "url": dg.MetadataValue.url(result.url),
            "receipts": dg.MetadataValue.json([r.model_dump(mode="json") for r in receipts]),
            "waiting": dg.MetadataValue.json(waits),
            "approved_by_review": project.review_required,
        },
    )


def publish_once(
    database: Database,
    publisher: PublisherResource,
    accounts: ChannelAccounts,
    request: PublishRequest,
) -> PublishReceipt | str:
    """``request`` published on its channel, exactly once: the receipt, or why it waits.

    Holds the (item, channel) upload against other processes, so a concurrent run waits and
    then finds it published; other errors propagate (the upload stays ``uploading`` with its
    journal, for the next try to resume)."""
    uploads = UploadRepository(database)
    content_id, channel = request.content_id, request.channel
    with exclusive(database, content_id, channel):
        record = uploads.get(content_id, channel)
        done = record.receipt() if record is not None else None
        if done is not None:
            return done
        account = accounts.account(database, channel)
        if account.reconnect_required:
            reason = f"{account.platform} channel {channel!r} must be connected again"
            uploads.waiting(content_id, channel, reason, retry_at=None)
            return reason
        uploads.begin(content_id, channel)
        journal = accounts.journal(database, content_id, channel)
        try:
            receipt = publisher.publish(request, account, journal)
        except QuotaExhausted as wait:
            until = wait.until or datetime.now(UTC) + timedelta(seconds=wait.retry_after or 0)
            uploads.waiting(content_id, channel, str(wait), retry_at=until)
            return str(wait)
        except ReconnectRequired as gone:
            uploads.waiting(content_id, channel, str(gone), retry_at=None)
            return str(gone)
        uploads.published(content_id, [receipt])
        return receipt
