import dagster as dg

from autoclip_assets.partitions import content_items
from autoclip_core.pipeline_names import CONTENT_JOB, PERFORMANCE_JOB, PUBLISH_JOB

PIPELINE_ASSETS = dg.AssetSelection.groups("ingest", "analysis", "script", "media", "publish")

content_job = dg.define_asset_job(
    CONTENT_JOB,
    selection=PIPELINE_ASSETS,
    partitions_def=content_items,
    executor_def=dg.in_process_executor,
    description="One content item from source to publication (stops at review when required).",
)

publish_job = dg.define_asset_job(
    PUBLISH_JOB,
    selection=dg.AssetSelection.assets("publication"),
    partitions_def=content_items,
    executor_def=dg.in_process_executor,
    description="Publish an approved, rendered item.",
)

performance_job = dg.define_asset_job(
    PERFORMANCE_JOB,
    selection=dg.AssetSelection.assets("performance"),
    partitions_def=content_items,
    executor_def=dg.in_process_executor,
    description="Refresh a published item's performance numbers (daily).",
)
