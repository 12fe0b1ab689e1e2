"""RSS/Atom feeds → normalised ``SourceItem``s.

Bytes are parsed through defusedxml first (entity expansion, external entities and
DTDs are refused), then handed to feedparser.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from time import struct_time

import defusedxml.ElementTree as safe_xml
import feedparser
from defusedxml import DefusedXmlException

from autoclip_core.fetch import fetch_bytes
from autoclip_core.schemas import SourceItem

MAX_FEED_BYTES = 10 * 1024 * 1024
SAMPLES = Path(__file__).parent / "samples"
SAMPLE_FEED = SAMPLES / "sample_feed.rss.xml"


class FeedError(ValueError):
    """A feed that cannot be read; the message says why."""


class _TextExtractor(HTMLParser):
    BLOCKS = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "blockquote", "tr"})
    SKIP = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts))
    paragraphs = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", p).strip() for p in text.split("\n"))
    return "\n\n".join(p for p in paragraphs if p)


def content_id(project: str, key: str) -> str:
    """Stable content-item id (the Dagster partition key) for an entry of a project."""
    return f"{project}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def load_feed_bytes(location: str) -> bytes:
    if re.match(r"^https?://", location, re.IGNORECASE):
        return fetch_bytes(location, max_bytes=MAX_FEED_BYTES)
    path = Path(location).expanduser()
    if not path.is_file():
        raise FeedError(f"feed file not found: {location}")
    if path.stat().st_size > MAX_FEED_BYTES:
        raise FeedError(f"feed larger than {MAX_FEED_BYTES} bytes: {location}")
    return path.read_bytes()


def parse_feed(data: bytes, *, project: str, source: str) -> list[SourceItem]:
    """Every usable entry of an RSS/Atom document, normalised."""
    if len(data) > MAX_FEED_BYTES:
        raise FeedError(f"feed larger than {MAX_FEED_BYTES} bytes: {source}")
    try:
        safe_xml.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise FeedError(f"feed refused as unsafe XML ({type(exc).__name__}): {source}") from exc
    except safe_xml.ParseError as exc:
        raise FeedError(f"feed is not well-formed XML ({exc}): {source}") from exc
    parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=False)
    if not parsed.entries:
        raise FeedError(f"no entries in feed: {source}")
    items: list[SourceItem] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        item = _entry_to_item(entry, project=project, source=source)
        if item is not None and item.id not in seen:
            seen.add(item.id)
            items.append(item)
    if not items:
        raise FeedError(f"no entry in the feed has a title and text: {source}")
    return items


def read_feed(location: str, *, project: str) -> list[SourceItem]:
    return parse_feed(load_feed_bytes(location), project=project, source=location)


def _entry_to_item(
    entry: feedparser.FeedParserDict, *, project: str, source: str
) -> SourceItem | None:
    title = html_to_text(entry.get("title", "")).replace("\n\n", " ").strip()
    bodies = [c.get("value", "") for c in entry.get("content", [])]
    body = max(bodies, key=len) if bodies else entry.get("summary", "")
    text = html_to_text(body)
    if not title or not text:
        return None
    link = entry.get("link", "")
    key = entry.get("id") or link or title
    return SourceItem(
        id=content_id(project, key),
        project=project,
        source=source,
        url=link,
        title=title,
        text=text,
        published_at=_to_datetime(entry.get("published_parsed") or entry.get("updated_parsed")),
        author=entry.get("author"),
        media_links=[m.get("url") for m in entry.get("media_content", []) if m.get("url")],
    )


def _to_datetime(value: struct_time | None) -> datetime | None:
    if value is None:
        return None
    return datetime(*value[:6], tzinfo=UTC)
