"""JSON APIs as sources: a URL plus a small declarative mapping, optional auth from a secret.

Paths are dotted (``data.articles``, ``links.web``); an integer picks a list element
(``images.0.url``) and ``[]`` maps over a list (``images[].url`` → every image's URL).
The list of items is at ``mapping.items`` ("" = the response itself); pages are followed
through ``mapping.next_page`` up to ``max_pages``, each through the guarded fetcher.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urljoin

from autoclip_core.feeds import clean_title, content_id, html_to_text, safe_link
from autoclip_core.fetch import fetch
from autoclip_core.ingest.config import JsonApiSource, JsonMapping
from autoclip_core.ingest.normalize import parse_time
from autoclip_core.ingest.poll import Candidate, PollContext, PollResult, SourceError, auth_headers
from autoclip_core.ingest.state import SourceState
from autoclip_core.schemas import SourceItem

MAX_ITEMS_PER_POLL = 1000


def resolve(data: Any, path: str | None) -> Any:
    """The value at ``path`` in ``data`` (None when absent); ``[]`` maps over lists."""
    if path is None:
        return None
    if path == "":
        return data
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        value = resolve(data, head[:-2]) if head[:-2] else data
        if not isinstance(value, list):
            return None
        results = [resolve(v, rest) if rest else v for v in value]
        return [r for r in results if r is not None]
    if isinstance(data, dict):
        value = data.get(head)
    elif isinstance(data, list) and head.lstrip("-").isdigit():
        index = int(head)
        value = data[index] if -len(data) <= index < len(data) else None
    else:
        return None
    return resolve(value, rest) if rest else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n\n".join(_text(v) for v in value if v is not None)
    if isinstance(value, dict):
        return ""
    return str(value)


def map_item(
    raw: Any,
    mapping: JsonMapping,
    *,
    project: str,
    source_id: str,
    source: str,
    base_url: str,
    fallback_key: bool = False,
) -> SourceItem | None:
    """One API object as a SourceItem, or None when it has no title/text or id/URL.

    With ``fallback_key`` an object without id and URL is keyed by its title and text.
    """
    if not isinstance(raw, dict):
        return None
    url = safe_link(_text(resolve(raw, mapping.url)), base_url)
    text = html_to_text(_text(resolve(raw, mapping.text)))
    title = clean_title(_text(resolve(raw, mapping.title)))
    raw_id = _text(resolve(raw, mapping.id)).strip()
    key = f"{source_id}:{raw_id}" if raw_id else url
    if not key and fallback_key and (title or text):
        digest = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:24]
        key = f"{source_id}:sha256:{digest}"
    if not key or not (title or text):
        return None
    media = resolve(raw, mapping.media)
    media_list = media if isinstance(media, list) else [media]
    links = [safe_link(_text(m), base_url) for m in media_list if isinstance(m, str)]
    author = clean_title(_text(resolve(raw, mapping.author))) or None
    language = _text(resolve(raw, mapping.language)).strip().lower()[:8] or None
    return SourceItem(
        id=content_id(project, key),
        project=project,
        source=source,
        url=url,
        title=title,
        text=text,
        published_at=parse_time(resolve(raw, mapping.published)),
        author=author,
        media_links=[link for link in links if link],
        language=language,
    )


def poll_json_api(source: JsonApiSource, state: SourceState, ctx: PollContext) -> PollResult:
    headers = {"Accept": "application/json", **auth_headers(source.auth)}
    url: str | None = source.url
    items: list[SourceItem] = []
    etag = last_modified = None
    for page in range(source.max_pages):
        assert url is not None
        first = page == 0
        response = fetch(
            url,
            max_bytes=ctx.limits.max_feed_bytes,
            timeout_s=ctx.limits.fetch_timeout_s,
            headers=headers,
            etag=state.etag if first else None,
            last_modified=state.last_modified if first else None,
        )
        if first:
            if response.not_modified:
                return PollResult(
                    not_modified=True, etag=state.etag, last_modified=state.last_modified
                )
            etag, last_modified = response.etag, response.last_modified
        try:
            data = json.loads(response.body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise SourceError(f"{url} did not return JSON: {exc}") from None
        raw_items = resolve(data, source.mapping.items)
        if not isinstance(raw_items, list):
            raise SourceError(
                f"{url}: no list at {source.mapping.items or 'the top level'!r} of the response"
            )
        for raw in raw_items:
            item = map_item(
                raw,
                source.mapping,
                project=ctx.project,
                source_id=ctx.source_id,
                source=source.url,
                base_url=response.url,
            )
            if item is not None:
                items.append(item)
        next_url = _text(resolve(data, source.mapping.next_page)).strip()
        if not next_url or len(items) >= MAX_ITEMS_PER_POLL:
            break
        url = urljoin(response.url, next_url)
    unique = list({item.id: item for item in items}.values())[:MAX_ITEMS_PER_POLL]
    return PollResult(
        candidates=[Candidate(item) for item in unique], etag=etag, last_modified=last_modified
    )
