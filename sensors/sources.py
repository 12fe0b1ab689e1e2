"""``sources_sensor``: every source, polled when due, into content items.

One sensor evaluates all due sources (``autoclip_core.ingest.engine``): new items become
``draft`` content items in the app database and dynamic partitions of ``content_items``;
projects that auto-generate (``projects.auto_generate``) also get a ``content_job`` run per
new item (``run_key`` = the item id, so an item never runs twice from here). Each source's
health — last error, consecutive failures, back-off, when it is due — lives in the
``sources`` table; its fetch position (ETag / Last-Modified) in the cursor (JSON).

Sources come from the sources file (``AUTOCLIP_SOURCES_FILE``, read when definitions
load), the legacy ``AUTOCLIP_FEEDS`` list bound as the ``feed_sources`` resource, and the
polled sources created through the API (read from the ``sources`` table on every tick).
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from autoclip_assets.jobs import content_job
from autoclip_assets.partitions import content_items
from autoclip_core.db.projects import ProjectRepository
from autoclip_core.ingest.config import SourcesConfig, configured_sources, with_legacy_feeds
from autoclip_core.ingest.state import IngestCursor
from autoclip_core.pipeline_names import PROJECT_TAG, SOURCE_TAG, TRIGGER_TAG, Trigger
from autoclip_core.settings import Settings
from resources.app_database import AppDatabase

if TYPE_CHECKING:
    from autoclip_core.ingest.engine import NewItem, TickOutcome

SENSOR_INTERVAL_SECONDS = 30


class FeedSources(dg.ConfigurableResource):
    """``AUTOCLIP_FEEDS``: feeds (paths or URLs) watched for ``project`` (auto-generating)."""

    feeds: list[str] = Field(default_factory=list)
    project: str = "demo"


def sources_config(settings: Settings) -> SourcesConfig:
    """The sources file named in the settings (empty without one); errors name the file."""
    return configured_sources(settings.sources_file)


def content_run_requests(
    projects: ProjectRepository, new_items: Iterable["NewItem"]
) -> list[dg.RunRequest]:
    """A ``content_job`` run per new item of a project that auto-generates.

    The one rule for every way items arrive (polled, pushed): the project's
    ``auto_generate`` in the app database (the sources file sets it for its projects).
    Every such run is tagged ``autoclip/trigger=sensor``, so a burst of them shares the
    run-queue limit of dagster.yaml; ``autoclip/source`` names the source.
    """
    new_items = list(new_items)
    auto = projects.auto_generating(new.project for new in new_items)
    return [
        dg.RunRequest(
            partition_key=new.item_id,
            run_key=new.item_id,
            tags={
                TRIGGER_TAG: Trigger.SENSOR,
                PROJECT_TAG: new.project,
                SOURCE_TAG: new.source,
            },
        )
        for new in new_items
        if new.project in auto
    ]


def run_requests(outcome: "TickOutcome", projects: ProjectRepository) -> list[dg.RunRequest]:
    return content_run_requests(projects, (*outcome.new_items, *outcome.recovered))


def build_sources_sensor(
    config: SourcesConfig, *, minimum_interval_seconds: int = SENSOR_INTERVAL_SECONDS
) -> dg.SensorDefinition:
    @dg.sensor(
        name="sources_sensor",
        job=content_job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Polls every due source; new items become drafts, partitions and runs.",
    )
    def sources_sensor(
        context: dg.SensorEvaluationContext, app_db: AppDatabase, feed_sources: FeedSources
    ) -> dg.SensorResult:
        # The engine and its fetchers and parsers load here, in the daemon: every run worker
        # loads these definitions and never polls.
        from autoclip_core.ingest.engine import IngestEngine

        effective = with_legacy_feeds(config, list(feed_sources.feeds), feed_sources.project)
        engine = IngestEngine(
            effective,
            app_db.database,
            existing_partitions=lambda: set(
                context.instance.get_dynamic_partitions(content_items.name)
            ),
        )
        outcome = engine.tick(IngestCursor.loads(context.cursor))
        for problem in outcome.problems:
            context.log.warning(problem)
        if not outcome.configured:
            return dg.SensorResult(skip_reason="no sources configured", cursor=context.cursor)
        for report in outcome.reports:
            if report.status in ("failed", "deferred"):
                context.log.warning(report.line())
            else:
                context.log.info(report.line())
        keys = outcome.partition_keys
        requests = run_requests(outcome, app_db.projects)
        cursor = outcome.cursor.dumps()
        if not keys:
            polled = len(outcome.reports)
            failed = sum(r.status == "failed" for r in outcome.reports)
            return dg.SensorResult(
                skip_reason=f"no new items ({polled} sources polled, {failed} failed)",
                cursor=cursor,
            )
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[content_items.build_add_request(keys)],
            cursor=cursor,
        )

    return sources_sensor
