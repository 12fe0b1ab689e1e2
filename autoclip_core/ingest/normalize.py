"""Normalisation every item goes through before de-duplication and registration.

- ``canonical_url``: the URL two copies of the same page share — https, lower-case host
  without ``www.``/``m.``, no default port, credentials, fragment, trailing slash or
  tracking parameters (``utm_*``, ``fbclid``, ...), remaining query parameters sorted;
  YouTube's many URL forms become ``https://www.youtube.com/watch?v=ID``.
- ``text``: NFC, clean whitespace, without reporter bylines, datelines and copyright lines
  (``autoclip_core.ingest.bylines``).
- ``language``: the raw language code of title + text (``autoclip_core.nlp``).
- ``fingerprint``: 128-bit simhash of the text (``autoclip_core.ingest.dedupe``).
"""

from __future__ import annotations

import email.utils
import re
import unicodedata
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from autoclip_core.feeds import MAX_TEXT_CHARS, clean_title, title_from_text
from autoclip_core.ingest.bylines import strip_bylines
from autoclip_core.ingest.dedupe import fingerprint_hex
from autoclip_core.nlp.language import UNDETERMINED, detect_language_code
from autoclip_core.schemas import SourceItem

LANGUAGE_SAMPLE_CHARS = 300
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "mc_cid", "mc_eid", "igshid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok",
        "ref_src", "ref_url", "cmpid", "s_cid", "ocid", "spm", "sr_share", "si",
        "feature", "rss", "utm",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "at_", "oly_")
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_YOUTUBE_HOSTS = frozenset({"youtube.com", "youtube-nocookie.com", "music.youtube.com"})


def youtube_video_id(url: str) -> str | None:
    """The video id of any YouTube watch/short/embed/youtu.be URL, else None."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    candidate: str | None = None
    if host == "youtu.be":
        candidate = parts.path.strip("/").split("/", 1)[0]
    elif host in _YOUTUBE_HOSTS:
        if parts.path == "/watch":
            candidate = dict(parse_qsl(parts.query)).get("v")
        else:
            match = re.match(r"^/(?:shorts|embed|v|live)/([^/?#]+)", parts.path)
            candidate = match.group(1) if match else None
    return candidate if candidate and _YOUTUBE_ID.match(candidate) else None


def youtube_watch_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


def canonical_url(url: str | None) -> str:
    """The comparison form of an http(s) URL ("" for anything else)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    video = youtube_video_id(url)
    if video:
        return youtube_watch_url(video)
    host = parts.hostname.lower().rstrip(".")
    for prefix in ("www.", "m.", "amp."):
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    path = re.sub(r"/(index\.(html?|php|asp))$", "/", path, flags=re.IGNORECASE)
    if len(path) > 1:
        path = path.rstrip("/")
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    )
    return urlunsplit(("https", host, path, urlencode(query), ""))


def parse_time(value: object) -> datetime | None:
    """A UTC datetime from ISO 8601, RFC 2822 or epoch seconds/milliseconds; else None."""
    if value is None or isinstance(value, bool):
        return None
    when: datetime | None = None
    if isinstance(value, int | float):
        seconds = float(value) / (1000 if value > 1e11 else 1)
        try:
            when = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError):
                return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def normalise_text(text: str) -> str:
    """NFC, no control characters, single spaces, paragraphs separated by one blank line."""
    text = unicodedata.normalize("NFC", text or "")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]", "", text)
    paragraphs = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", p).strip() for p in text.split("\n"))
    return "\n\n".join(p for p in paragraphs if p)[:MAX_TEXT_CHARS]


def normalize_item(item: SourceItem) -> SourceItem:
    """The item with clean title/text and its canonical URL, language and fingerprint set."""
    text = strip_bylines(normalise_text(item.text))
    title = clean_title(item.title) or title_from_text(text)
    language = item.language
    if not language or language == UNDETERMINED:
        language = detect_language_code(f"{title}\n{text[:LANGUAGE_SAMPLE_CHARS]}")
    return item.model_copy(
        update={
            "title": title,
            "text": text,
            "language": language,
            "canonical_url": canonical_url(item.canonical_url or item.url) or None,
            "fingerprint": fingerprint_hex(text),
        }
    )
