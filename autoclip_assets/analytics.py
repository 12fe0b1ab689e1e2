"""Stage 6 (daily, after publication): how each published video does on its channels.

``performance`` asks the publisher for the video's numbers on every channel it was
published to (one receipt per channel) and stores them as one snapshot per channel
(``performance_snapshots``: a time series for analytics, kept apart from the content
events, which record state changes). ``performance_schedule`` requests it once a day for
every published item.
"""

import dagster as dg

from autoclip_assets.partitions import content_items
from autoclip_assets.retries import RETRY, provider_call
from autoclip_core.db.performance import PerformanceSample
from autoclip_core.schemas import Publication
from resources.app_database import AppDatabase
from resources.publisher.accounts import ChannelAccounts
from resources.publisher.base import PublisherResource, VideoStats


def sample_of(stats: VideoStats) -> PerformanceSample:
    """The stored row: the channel's numbers without the content id it is filed under."""
    return PerformanceSample(**stats.model_dump(exclude={"content_id"}))


@dg.asset(
    partitions_def=content_items,
    retry_policy=RETRY,
    group_name="analytics",
    pool="publisher",
)
def performance(
    context: dg.AssetExecutionContext,
    publication: Publication,
    publisher: PublisherResource,
    accounts: ChannelAccounts,
    app_db: AppDatabase,
) -> list[VideoStats]:
    """The published video's views, likes, comments, shares and watch time per channel."""
    content_id = context.partition_key
    with provider_call(context):
        stats = [
            publisher.video_stats(
                content_id, receipt, accounts.account(app_db.database, receipt.channel)
            )
            for receipt in publication.receipts
        ]
    app_db.performance.record(content_id, [sample_of(s) for s in stats])
    context.add_output_metadata(
        {
            "channels": ", ".join(s.channel for s in stats),
            "views": sum(s.views for s in stats),
            "likes": sum(s.likes for s in stats),
            "comments": sum(s.comments for s in stats),
            "shares": sum(s.shares for s in stats),
            "watch_time_s": round(sum(s.watch_time_s for s in stats), 1),
            "url": dg.MetadataValue.url(stats[0].url) if stats and stats[0].url else "",
        }
    )
    return stats
