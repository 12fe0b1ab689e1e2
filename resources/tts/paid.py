"""A paid TTS answer, asked once: looked up in the answer cache first, else fetched with the
shared retry policy, counted (characters and cost) and kept for the next run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from resources.vendors.cache import AnswerCache
from resources.vendors.http import RetryPolicy, retrying
from resources.vendors.usage import Usage, report_cache_hit, report_usage

ONE_ATTEMPT = RetryPolicy(attempts=1)
"""For a ``VendorClient`` whose calls go through ``paid_answer``, which does the retrying."""


def paid_answer(
    cache_dir: str | None,
    key: str,
    fetch: Callable[[], bytes],
    *,
    usage: Usage,
    attempts: int,
) -> bytes:
    """The bytes cached under ``key`` (no call, no cost), else ``fetch()``'s, then cached."""
    cache = AnswerCache(Path(cache_dir)) if cache_dir else None
    if cache is not None and (cached := cache.get_bytes(key)) is not None:
        report_cache_hit(usage.provider)
        return cached
    answer = retrying(fetch, policy=RetryPolicy(attempts=attempts))
    report_usage(usage)
    if cache is not None:
        cache.put_bytes(key, answer)
    return answer
