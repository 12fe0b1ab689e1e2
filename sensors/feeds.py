import dagster as dg

from autoclip_assets.jobs import content_job
from autoclip_assets.partitions import content_items
from autoclip_core.feeds import FeedError, read_feed
from autoclip_core.fetch import FetchError
from resources.app_database import AppDatabase


class FeedSources(dg.ConfigurableResource):
    """Feeds to watch (paths or URLs) and the project their items belong to."""

    feeds: list[str]
    project: str


@dg.sensor(
    job=content_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING
)
def feed_sensor(
    context: dg.SensorEvaluationContext, app_db: AppDatabase, feed_sources: FeedSources
) -> dg.SensorResult | dg.SkipReason:
    """New feed entries become content items (draft), partitions and content runs."""
    store = app_db.store
    store.ensure_project(feed_sources.project)
    errors: dict[str, str] = {}
    new_ids: list[str] = []
    for feed in feed_sources.feeds:
        try:
            items = read_feed(feed, project=feed_sources.project)
        except (FeedError, FetchError) as exc:
            errors[feed] = str(exc)
            context.log.warning(f"feed {feed}: {exc}")
            continue
        new_ids.extend(item.id for item in items if store.register_item(item))
    if not new_ids:
        return dg.SkipReason(f"no new items in {len(feed_sources.feeds)} feeds; errors: {errors}")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=k, run_key=k) for k in new_ids],
        dynamic_partitions_requests=[content_items.build_add_request(new_ids)],
    )
