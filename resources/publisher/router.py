"""Publishing routed by platform: each channel goes to the publisher of its platform (the
local one always; YouTube and TikTok when ``AUTOCLIP_PUBLISHER_PROVIDER`` names them)."""

from __future__ import annotations

from autoclip_core.schemas import PublishReceipt
from resources.errors import PublishError
from resources.publisher.base import (
    ChannelAccount,
    Platform,
    PublisherResource,
    PublishRequest,
    UploadJournal,
    VideoStats,
)


class PlatformRouter(PublisherResource):
    local: PublisherResource
    youtube: PublisherResource | None = None
    tiktok: PublisherResource | None = None

    def for_platform(self, platform: Platform) -> PublisherResource:
        chosen: PublisherResource | None = getattr(self, platform, None)
        if chosen is None:
            raise PublishError(
                f"a {platform} channel, but no {platform} publisher is chosen: add {platform} "
                "to AUTOCLIP_PUBLISHER_PROVIDER (with its client credentials)"
            )
        return chosen

    def publish(
        self, request: PublishRequest, account: ChannelAccount, journal: UploadJournal
    ) -> PublishReceipt:
        return self.for_platform(account.platform).publish(request, account, journal)

    def video_stats(
        self, content_id: str, receipt: PublishReceipt, account: ChannelAccount
    ) -> VideoStats:
        return self.for_platform(account.platform).video_stats(content_id, receipt, account)
