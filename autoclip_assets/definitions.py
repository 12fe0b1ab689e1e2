"""The Dagster code location: assets, checks, jobs, sensors and resources.

Resources are chosen from settings when definitions load (``@dg.definitions``), so
importing this module reads no environment and opens nothing.
"""

import dagster as dg

from autoclip_assets.analysis import content_analysis, safety_precheck, topic_selection
from autoclip_assets.analytics import performance
from autoclip_assets.ingest import source_item
from autoclip_assets.jobs import content_job, performance_job, publish_job
from autoclip_assets.llm_batch import llm_batch_job
from autoclip_assets.media import narration, scene_images, video
from autoclip_assets.pools import vendor_pools, with_vendor_pools
from autoclip_assets.publishing import publication, safety_postcheck
from autoclip_assets.scripting import script
from autoclip_core.settings import Settings, get_settings
from resources.registry import build_resources
from schedules.daily_batch import build_daily_batch_schedule
from schedules.performance import performance_schedule
from sensors.approvals import approval_sensor
from sensors.llm_batch import llm_batch_sensors
from sensors.run_status import run_status_sensor
from sensors.sources import FeedSources, build_sources_sensor, sources_config
from sensors.uploads import upload_retry_sensor
from sensors.webhook import webhook_items_sensor

ASSETS = [
    source_item,
    content_analysis,
    topic_selection,
    script,
    narration,
    scene_images,
    video,
    publication,
    performance,
]
CHECKS = [safety_precheck, safety_postcheck]


def build_definitions(settings: Settings) -> dg.Definitions:
    # The daily batch asks Gemini's Batch API first only where Gemini is the LLM provider.
    prepare = settings.gemini_batch and settings.llm_provider == "gemini"
    resources = build_resources(settings)
    return dg.Definitions(
        assets=with_vendor_pools(ASSETS, vendor_pools(settings, resources["renderer"])),
        asset_checks=CHECKS,
        jobs=[content_job, publish_job, performance_job, *([llm_batch_job] if prepare else [])],
        sensors=[
            build_sources_sensor(sources_config(settings)),
            webhook_items_sensor,
            approval_sensor,
            upload_retry_sensor,
            run_status_sensor,
            *(llm_batch_sensors if prepare else []),
        ],
        schedules=[build_daily_batch_schedule(prepare=prepare), performance_schedule],
        resources={
            **resources,
            "feed_sources": FeedSources(feeds=settings.feed_list, project=settings.default_project),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(get_settings())
