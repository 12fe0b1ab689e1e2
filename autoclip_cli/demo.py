"""`autoclip demo`: a feed → finished, published videos, on local providers.

Runs each item's ``content_job`` in process against the persistent instance under
``$AUTOCLIP_DATA_DIR/dagster`` (so every run shows up later in ``make dev``) and keeps
the app database's states current through the same ``sync_run`` the sensors use.

Every video goes to the local channel; with ``AUTOCLIP_PUBLISHER_PROVIDER=youtube,tiktok``
and those platforms' client credentials and refresh tokens set, to each of them as well (the
channels configured in settings), and its line ends with each platform's URL.
"""

import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster import DagsterRunStatus

from autoclip_assets.definitions import build_definitions
from autoclip_assets.partitions import content_items
from autoclip_assets.pools import apply_pool_limits
from autoclip_cli.dev import prepare_dagster_home
from autoclip_core.db.migrate import SchemaNotCurrentError
from autoclip_core.db.uploads import UploadRepository, UploadState
from autoclip_core.feeds import SAMPLE_FEED, FeedError, read_feed
from autoclip_core.fetch import FetchError
from autoclip_core.pipeline_names import CONTENT_JOB, TRIGGER_TAG, Trigger
from autoclip_core.render.probe import probe
from autoclip_core.schemas import RenderedVideo, Script
from autoclip_core.settings import Settings
from resources.app_database import AppDatabase
from sensors.run_status import sync_run

LOCAL = "local"


@dataclass
class ItemOutcome:
    content_id: str
    title: str
    state: str
    reason: str | None
    seconds: float
    step_seconds: dict[str, float]
    video_path: Path | None = None
    language: str | None = None
    platforms: list[str] = field(default_factory=list)
    """Each other channel's URL, or why it has none yet."""


def prepare_instance(settings: Settings) -> dg.DagsterInstance:
    """The persistent local instance: DAGSTER_HOME inside the data dir, with our dagster.yaml
    and the settings' pool limits."""
    os.environ["DAGSTER_HOME"] = str(prepare_dagster_home(settings))
    instance = dg.DagsterInstance.get()
    apply_pool_limits(instance, settings)
    release_interrupted_demo_runs(instance)
    return instance


def release_interrupted_demo_runs(instance: dg.DagsterInstance) -> None:
    """A demo killed mid-run (Ctrl-C) leaves its run 'started', holding its pool slot."""
    stale = instance.get_runs(
        dg.RunsFilter(
            statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING],
            tags={TRIGGER_TAG: Trigger.DEMO},
        )
    )
    for run in stale:
        instance.report_run_failed(run, "interrupted: the demo process that ran it ended")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    return {
        s.step_key: round((s.end_time or 0) - (s.start_time or 0), 2)
        for s in instance.get_run_step_stats(run_id)
        if s.start_time and s.end_time
    }


def run_item(
    defs: dg.Definitions, instance: dg.DagsterInstance, app_db: AppDatabase, content_id: str
) -> ItemOutcome:
    job = defs.resolve_job_def(CONTENT_JOB)
    started = time.perf_counter()
    result = job.execute_in_process(
        instance=instance,
        partition_key=content_id,
        raise_on_error=False,
        tags={TRIGGER_TAG: Trigger.DEMO},
    )
    seconds = time.perf_counter() - started
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    sync_run(app_db.database, instance, run, DagsterRunStatus.STARTED)
    sync_run(app_db.database, instance, run, run.status)
    status = app_db.content.status(content_id)
    outcome = ItemOutcome(
        content_id,
        app_db.content.source_item(content_id).title,
        status.state,
        status.reason,
        seconds,
        step_seconds(instance, result.run_id),
    )
    if result.success:
        video: RenderedVideo = result.output_for_node("video")
        script: Script = result.output_for_node("script")
        outcome.language = script.language
        outcome.video_path = (
            Path(status.published_url.removeprefix("file://")) if status.published_url else None
        )
        if outcome.video_path is None or not outcome.video_path.is_file():
            outcome.video_path = Path(defs.resources["storage"].local_path(video.video_key))
    route = app_db.projects.of_content(content_id).channels
    uploads = {u.channel: u for u in UploadRepository(app_db.database).of_content(content_id)}
    outcome.platforms = [
        u.url
        if u.state == UploadState.PUBLISHED and u.url
        else f"{u.channel}: {u.state} ({u.error})"
        for u in (uploads[c] for c in route if c != LOCAL and c in uploads)
    ]
    return outcome


def demo_channels(settings: Settings) -> list[str]:
    """The local channel, and each platform the publisher provider names whose channel is
    configured in settings (its refresh token)."""
    chosen = settings.provider_chain("publisher")
    configured = {
        "youtube": settings.youtube_refresh_token is not None,
        "tiktok": settings.tiktok_refresh_token is not None,
    }
    for platform in chosen:
        if platform in configured and not configured[platform]:
            print(
                f"note: {platform} is chosen but AUTOCLIP_{platform.upper()}_REFRESH_TOKEN is "
                f"not set: the demo does not publish there"
            )
    return [LOCAL, *(p for p in chosen if configured.get(p))]


def run_demo(feed: str, settings: Settings) -> int:
    print(f"AutoClip demo — data dir {settings.root}")
    app_db = AppDatabase(url=settings.app_database_url)
    try:
        app_db.projects.ensure(settings.default_project, channels=demo_channels(settings))
    except SchemaNotCurrentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        items = read_feed(feed, project=settings.default_project)
    except (FeedError, FetchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    new = sum(app_db.content.register_item(item) for item in items)
    print(f"feed {feed}: {len(items)} items ({new} new)")
    instance = prepare_instance(settings)
    ids = [item.id for item in items]
    instance.add_dynamic_partitions(
        content_items.name,
        [k for k in ids if not instance.has_dynamic_partition(content_items.name, k)],
    )
    defs = build_definitions(settings)
    outcomes: list[ItemOutcome] = []
    for n, item in enumerate(items, 1):
        print(f"[{n}/{len(items)}] {item.id}: {item.title[:70]}", flush=True)
        outcome = run_item(defs, instance, app_db, item.id)
        outcomes.append(outcome)
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in outcome.step_seconds.items())
        print(f"    → {outcome.state} in {outcome.seconds:.1f} s ({steps})", flush=True)
        if outcome.reason:
            print(f"    reason: {outcome.reason}")
    return report(outcomes)


def report(outcomes: list[ItemOutcome]) -> int:
    made = [o for o in outcomes if o.video_path is not None]
    if made:
        print(f"\nmedian per item: {statistics.median(o.seconds for o in made):.1f} s")
    print("\nVideos:")
    for o in made:
        assert o.video_path is not None
        info = probe(o.video_path)
        size = f"{info.video.width}x{info.video.height}" if info.video else "no video"
        print("  ".join([f"{o.video_path}", f"{info.duration:.1f}s", size, f"{o.language}",
                         *o.platforms]))  # fmt: skip
    failed = [o for o in outcomes if o.video_path is None]
    for o in failed:
        print(f"not made: {o.content_id} ({o.state}): {o.reason}")
    return 0 if made and not failed else 1


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="autoclip demo", description=__doc__)
    parser.add_argument(
        "--feed",
        default=str(SAMPLE_FEED),
        help="feed file path or http(s) URL (default: the bundled sample feed)",
    )
    args = parser.parse_args(argv)
    return run_demo(args.feed, Settings())
