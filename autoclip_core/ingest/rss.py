"""RSS 2.0 / RSS 1.0 / Atom sources: conditional GET, parse, full text for teasers."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from autoclip_core.feeds import FeedError, parse_feed
from autoclip_core.fetch import fetch
from autoclip_core.ingest.article import wants_full_text, with_full_text
from autoclip_core.ingest.config import RssSource
from autoclip_core.ingest.poll import Candidate, PollContext, PollResult, auth_headers
from autoclip_core.ingest.state import SourceState


def is_url(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


def poll_rss(source: RssSource, state: SourceState, ctx: PollContext) -> PollResult:
    limits = ctx.limits
    headers = auth_headers(source.auth)
    if is_url(source.url):
        response = fetch(
            source.url,
            max_bytes=limits.max_feed_bytes,
            timeout_s=limits.fetch_timeout_s,
            headers=headers,
            etag=state.etag,
            last_modified=state.last_modified,
        )
        if response.not_modified:
            return PollResult(not_modified=True, etag=state.etag, last_modified=state.last_modified)
        data, charset = response.body, response.charset
        etag, last_modified = response.etag, response.last_modified
    else:
        path = Path(source.url).expanduser()
        if not path.is_file():
            raise FeedError(f"feed file not found: {source.url}")
        stat = path.stat()
        if stat.st_size > limits.max_feed_bytes:
            raise FeedError(f"feed larger than {limits.max_feed_bytes} bytes: {source.url}")
        etag = f"file:{stat.st_mtime_ns}:{stat.st_size}"
        if etag == state.etag:
            return PollResult(not_modified=True, etag=etag)
        data, charset, last_modified = path.read_bytes(), None, None
    items = parse_feed(
        data,
        project=ctx.project,
        source=source.url,
        charset=charset,
        require_text=False,
        max_bytes=limits.max_feed_bytes,
    )
    enrich = partial(
        with_full_text,
        max_bytes=limits.max_article_bytes,
        timeout_s=limits.fetch_timeout_s,
    )
    candidates = [
        Candidate(item, enrich if wants_full_text(item, source.full_text) else None)
        for item in items
    ]
    return PollResult(candidates=candidates, etag=etag, last_modified=last_modified)
