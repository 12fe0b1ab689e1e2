"""The configuration every paid provider shares, and the client, cache and limiter built from
it. A provider resource inherits from its capability's base and from ``VendorResource``;
``resources.registry.vendor_config`` fills these fields from the settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import dagster as dg
from pydantic import Field

from resources.vendors.cache import AnswerCache
from resources.vendors.ratelimit import limiter_for

if TYPE_CHECKING:
    from resources.vendors.http import VendorClient


class VendorResource(dg.ConfigurableResource):
    vendor: ClassVar[str]
    """The price-table and rate-limit name (``resources/vendors/prices.py``)."""

    base_url: str
    api_key: str = Field(repr=False)
    cache_dir: str
    timeout_s: float = 30.0
    attempts: int = 3
    requests_per_minute: dict[str, float] = Field(default_factory=dict)
    """Overrides of the documented rate limits, by vendor."""
    redis_url: str | None = None

    def vendor_client(self, *, sleep: Callable[[float], None] | None = None) -> VendorClient:
        """A client with this vendor's retry policy, rate limit and key (kept out of errors)."""
        # httpx is imported here, when a vendor is called: the assets import this module for
        # ``output_config`` in every run, local providers included.
        from resources.vendors.http import RetryPolicy, VendorClient

        extra = {"sleep": sleep} if sleep is not None else {}
        return VendorClient(
            self.vendor,
            timeout=self.timeout_s,
            policy=RetryPolicy(attempts=self.attempts),
            limiter=limiter_for(
                self.vendor, overrides=self.requests_per_minute, redis_url=self.redis_url
            ),
            secrets=[self.api_key],
            **extra,
        )

    def answer_cache(self) -> AnswerCache:
        return AnswerCache(Path(self.cache_dir))


OPERATIONAL_FIELDS = frozenset(
    {"base_url", "api_key", "cache_dir", "timeout_s", "attempts", "requests_per_minute",
     "redis_url", "batch_poll_s", "batch_wait_s", "storage", "media_url_seconds", "webhook_url",
     "webhook_secret", "inbox_interval_s", "fallback_poll_s"}
)  # fmt: skip
"""How a vendor is reached, not what it makes: left out of output fingerprints."""


def output_config(resource: dg.ConfigurableResource) -> dict[str, object]:
    """The resource's configuration that shapes what it produces, for content fingerprints: a
    rotated key, another timeout or cache folder must not make stored media look stale."""
    stripped = _without_operational(resource.model_dump())
    assert isinstance(stripped, dict)
    return stripped


def _without_operational(value: object) -> object:
    """Nested too: a chain holds its providers as nested resources."""
    if isinstance(value, dict):
        return {
            k: _without_operational(v) for k, v in value.items() if k not in OPERATIONAL_FIELDS
        }
    if isinstance(value, list | tuple):
        return [_without_operational(v) for v in value]
    return value
