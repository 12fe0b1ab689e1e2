"""Stage 1: the source item, as stored in the app database by ingestion."""

import dagster as dg

from autoclip_assets.partitions import content_items
from autoclip_assets.retries import RETRY
from autoclip_core.schemas import SourceItem
from resources.app_database import AppDatabase


@dg.asset(partitions_def=content_items, retry_policy=RETRY, group_name="ingest")
def source_item(context: dg.AssetExecutionContext, app_db: AppDatabase) -> SourceItem:
    """The fetched article: metadata and plain text."""
    item = app_db.content.source_item(context.partition_key)
    context.add_output_metadata(
        {
            "title": item.title,
            "url": dg.MetadataValue.url(item.url) if item.url else "",
            "source": item.source,
            "characters": len(item.text),
            "published_at": item.published_at.isoformat() if item.published_at else "unknown",
        }
    )
    return item
