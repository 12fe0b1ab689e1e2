"""A paid TTS answer, asked once: looked up in the answer cache first, else fetched (with the
vendor's retries), counted (characters and cost) and kept for the next run."""

from __future__ import annotations

from collections.abc import Callable

from resources.vendors.cache import AnswerCache
from resources.vendors.usage import Usage, report_cache_hit, report_usage


def paid_answer(cache: AnswerCache, key: str, fetch: Callable[[], bytes], usage: Usage) -> bytes:
    """The bytes cached under ``key`` (no call, no cost), else ``fetch()``'s, then cached."""
    cached = cache.get_bytes(key)
    if cached is not None:
        report_cache_hit(usage.provider)
        return cached
    answer = fetch()
    report_usage(usage)
    cache.put_bytes(key, answer)
    return answer
