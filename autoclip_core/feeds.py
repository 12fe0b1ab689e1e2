"""RSS 2.0 / RSS 1.0 / Atom feeds → normalised ``SourceItem``s.

Bytes are first decoded to text whatever the feed's encoding (BOM, HTTP charset, XML
declaration, then UTF-8 and CP949 guesses — EUC-KR feeds are read as CP949, its
superset), re-encoded as UTF-8, and parsed through defusedxml (entity expansion,
external entities and DTDs are refused) before feedparser sees them. A feed that is not
well-formed XML but carries no DOCTYPE/ENTITY declarations (a bare ``&`` in a title is
the classic) is handed to feedparser's lenient parser; if that yields nothing usable the
feed is an error. Every error is a ``FeedError`` whose message says why.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from time import struct_time
from urllib.parse import urljoin

import defusedxml.ElementTree as safe_xml
import feedparser
from defusedxml import DefusedXmlException

from autoclip_core.fetch import fetch
from autoclip_core.schemas import SourceItem

MAX_FEED_BYTES = 10 * 1024 * 1024
MAX_TITLE_CHARS = 300
MAX_TEXT_CHARS = 200_000
SAMPLES = Path(__file__).parent / "samples"
SAMPLE_FEED = SAMPLES / "sample_feed.rss.xml"

# Labels that mean CP949 in practice: "EUC-KR" feeds routinely contain CP949-only syllables.
_ENCODING_ALIASES = {
    "euc-kr": "cp949",
    "euc_kr": "cp949",
    "euckr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "x-windows-949": "cp949",
    "windows-949": "cp949",
    "ms949": "cp949",
    "uhc": "cp949",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*?\?>", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding=[\"']([A-Za-z0-9._:-]+)[\"']", re.I)
_XML_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DECLARATIONS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_BARE_AMPERSAND = re.compile(rb"&(?!(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")


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


def clean_title(markup: str) -> str:
    """A one-line plain-text title (HTML and entities removed), at most MAX_TITLE_CHARS."""
    title = " ".join(html_to_text(markup).split())
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return title


def title_from_text(text: str, limit: int = 90) -> str:
    """A stand-in title for an entry without one: the start of its first paragraph."""
    first = text.split("\n", 1)[0].strip()
    if len(first) <= limit:
        return first
    return first[: limit - 1].rsplit(" ", 1)[0] + "…"


def content_id(project: str, key: str) -> str:
    """Stable content-item id (the Dagster partition key) for an entry of a project."""
    return f"{project}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def safe_link(url: str | None, base: str = "") -> str:
    """An absolute http(s) URL, or "" (``javascript:``, ``data:`` and the like are dropped)."""
    url = (url or "").strip()
    if not url:
        return ""
    if base.lower().startswith(("http://", "https://")):
        url = urljoin(base, url)
    return url if re.match(r"^https?://[^\s/]+", url, re.IGNORECASE) else ""


# bytes → UTF-8 XML ------------------------------------------------------------------------


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    label = _ENCODING_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_document(data: bytes, charset: str | None = None) -> str:
    """The document as text: BOM, then HTTP charset, XML declaration, UTF-8, CP949."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(name)
            except UnicodeDecodeError:
                break
    declared = _DECLARED_ENCODING.match(data)
    candidates = [_codec(charset), _codec(declared.group(1).decode() if declared else None)]
    candidates += ["utf-8", "cp949"]
    tried: set[str] = set()
    for name in candidates:
        if name is None or name in tried:
            continue
        tried.add(name)
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", errors="replace")


def to_utf8_xml(data: bytes, charset: str | None = None) -> bytes:
    """The document re-encoded as UTF-8, its declaration saying so, invalid chars removed."""
    text = decode_document(data, charset).lstrip("\ufeff").lstrip()
    text = _XML_INVALID_CHARS.sub("", text)
    match = _XML_DECL.match(text)
    if match:
        decl = re.sub(
            r"encoding=[\"'][^\"']*[\"']", 'encoding="utf-8"', match.group(0), flags=re.I
        )
        text = decl + text[match.end() :]
    return text.encode("utf-8")


# parsing ----------------------------------------------------------------------------------


def parse_feed(
    data: bytes,
    *,
    project: str,
    source: str,
    charset: str | None = None,
    require_text: bool = True,
    max_bytes: int | None = None,
) -> list[SourceItem]:
    """Every usable entry of an RSS/Atom document, normalised; FeedError if there is none.

    With ``require_text=False`` an entry with a title and a link but no body (a headline
    feed) is kept with empty text, for the caller to fetch the article.
    """
    limit = max_bytes or MAX_FEED_BYTES
    if len(data) > limit:
        raise FeedError(f"feed larger than {limit} bytes: {source}")
    xml = to_utf8_xml(data, charset)
    malformed: str | None = None
    try:
        safe_xml.fromstring(xml, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise FeedError(f"feed refused as unsafe XML ({type(exc).__name__}): {source}") from exc
    except safe_xml.ParseError as exc:
        if _DECLARATIONS.search(xml):
            raise FeedError(
                f"feed refused: not well-formed XML with a DOCTYPE/ENTITY declaration ({exc}): "
                f"{source}"
            ) from exc
        malformed = str(exc)
        repaired = _BARE_AMPERSAND.sub(b"&amp;", xml)
        try:
            safe_xml.fromstring(repaired, forbid_dtd=True)
        except (DefusedXmlException, safe_xml.ParseError):
            pass  # left to feedparser's lenient parser
        else:
            xml, malformed = repaired, None
    parsed = feedparser.parse(xml, sanitize_html=True, resolve_relative_uris=False)
    items: list[SourceItem] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        item = entry_to_item(entry, project=project, source=source, require_text=require_text)
        if item is not None and item.id not in seen:
            seen.add(item.id)
            items.append(item)
    if not items:
        if malformed is not None:
            raise FeedError(f"feed is not well-formed XML ({malformed}): {source}")
        if not parsed.entries:
            raise FeedError(f"no entries in feed: {source}")
        raise FeedError(f"no entry in the feed has a title and text: {source}")
    return items


def entry_to_item(
    entry: feedparser.FeedParserDict, *, project: str, source: str, require_text: bool = True
) -> SourceItem | None:
    """One feed entry as a SourceItem, or None when it has nothing usable."""
    bodies = [c.get("value", "") for c in entry.get("content", []) if isinstance(c, dict)]
    body = max(bodies, key=len) if bodies else entry.get("summary", "")
    text = html_to_text(body or "")[:MAX_TEXT_CHARS]
    title = clean_title(entry.get("title", "") or "") or title_from_text(text)
    link = safe_link(entry.get("link"), source)
    if not title or not (text or (link and not require_text)):
        return None
    key = entry.get("id") or link or title
    return SourceItem(
        id=content_id(project, key),
        project=project,
        source=source,
        url=link,
        title=title,
        text=text,
        published_at=_to_datetime(entry.get("published_parsed") or entry.get("updated_parsed")),
        author=clean_title(entry.get("author", "") or "") or None,
        media_links=media_links(entry, source),
    )


def media_links(entry: feedparser.FeedParserDict, base: str = "") -> list[str]:
    """Media of an entry: media:content, media:thumbnail and enclosures (http(s) only)."""
    found: list[str] = []
    candidates = [m.get("url") for m in entry.get("media_content", []) if isinstance(m, dict)]
    candidates += [m.get("url") for m in entry.get("media_thumbnail", []) if isinstance(m, dict)]
    candidates += [
        link.get("href")
        for link in entry.get("links", [])
        if isinstance(link, dict) and link.get("rel") == "enclosure"
    ]
    for candidate in candidates:
        url = safe_link(candidate, base)
        if url and url not in found:
            found.append(url)
    return found


def _to_datetime(value: struct_time | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


# reading a location -----------------------------------------------------------------------


def _is_url(location: str) -> bool:
    return bool(re.match(r"^https?://", location, re.IGNORECASE))


def load_feed_bytes(location: str, *, max_bytes: int | None = None) -> bytes:
    limit = max_bytes or MAX_FEED_BYTES
    if _is_url(location):
        return fetch(location, max_bytes=limit).body
    path = Path(location).expanduser()
    if not path.is_file():
        raise FeedError(f"feed file not found: {location}")
    if path.stat().st_size > limit:
        raise FeedError(f"feed larger than {limit} bytes: {location}")
    return path.read_bytes()


def read_feed(location: str, *, project: str) -> list[SourceItem]:
    """A feed file or http(s) URL (through the guarded fetcher), parsed."""
    if _is_url(location):
        result = fetch(location, max_bytes=MAX_FEED_BYTES)
        return parse_feed(result.body, project=project, source=location, charset=result.charset)
    return parse_feed(load_feed_bytes(location), project=project, source=location)
