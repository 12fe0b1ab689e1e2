"""YouTube channels: new videos from the channel's Atom feed or the Data API v3, and their
transcripts (youtube-transcript-api) as the item's text.

- Feed: ``{feed_base_url}/feeds/videos.xml?channel_id=UC…`` (public, conditional GET).
- Data API v3, when the source names a key's environment variable and it is set:
  ``playlistItems`` on the channel's uploads playlist (``UU…``, 1 quota unit) or
  ``search`` (100 units). The key travels in the ``X-Goog-Api-Key`` header, so it never
  appears in a URL, a log line or an error message.
- Transcripts: youtube-transcript-api does the protocol (watch page → innertube player →
  caption track); its HTTP goes through ``GuardedSession``, i.e. our guarded fetcher
  (SSRF guard, caps, timeouts), with ``https://www.youtube.com`` rewritten to
  ``watch_base_url`` and XML answers checked by defusedxml before the library parses
  them. No transcript → the video's description is the text.

All base URLs come from the sources file, so tests run against a fake on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
from functools import partial
from typing import Any

import defusedxml.ElementTree as safe_xml
import requests
from defusedxml import DefusedXmlException
from requests.structures import CaseInsensitiveDict

from autoclip_core.feeds import clean_title, content_id, html_to_text, parse_feed
from autoclip_core.fetch import FetchError, fetch
from autoclip_core.ingest.config import Limits, YoutubeEndpoints, YoutubeSource
from autoclip_core.ingest.normalize import parse_time, youtube_video_id, youtube_watch_url
from autoclip_core.ingest.poll import Candidate, PollContext, PollResult, SourceError
from autoclip_core.ingest.state import SourceState
from autoclip_core.schemas import SourceItem

YOUTUBE_ORIGIN = "https://www.youtube.com"
MAX_API_BYTES = 2 * 1024 * 1024
MAX_TRANSCRIPT_BYTES = 4 * 1024 * 1024
_DROPPED_REQUEST_HEADERS = frozenset({"accept-encoding", "connection", "content-length", "host"})


def video_key(video_id: str) -> str:
    """The key a video's content id derives from: the same whichever way it was found."""
    return f"youtube:{video_id}"


def thumbnail_url(video_id: str) -> str:
    return f"https://i.ytimg.com/vi/{video_id}/hqdefault.jpg"


def channel_feed_url(endpoints: YoutubeEndpoints, channel_id: str) -> str:
    return f"{endpoints.feed_base_url.rstrip('/')}/feeds/videos.xml?channel_id={channel_id}"


def _video_item(
    project: str,
    source: str,
    video_id: str,
    title: str,
    description: str,
    published: Any,
    author: str | None,
    thumbnails: list[str],
) -> SourceItem:
    url = youtube_watch_url(video_id)
    return SourceItem(
        id=content_id(project, video_key(video_id)),
        project=project,
        source=source,
        url=url,
        canonical_url=url,
        title=clean_title(title) or video_id,
        text=html_to_text(description or ""),
        published_at=published or None,
        author=author or None,
        media_links=[url, *(t for t in thumbnails if t.startswith(("http://", "https://")))],
    )


# listing videos ---------------------------------------------------------------------------


def _from_feed(
    source: YoutubeSource, state: SourceState, ctx: PollContext
) -> PollResult:
    url = channel_feed_url(ctx.youtube, source.channel_id)
    response = fetch(
        url,
        max_bytes=ctx.limits.max_feed_bytes,
        timeout_s=ctx.limits.fetch_timeout_s,
        etag=state.etag,
        last_modified=state.last_modified,
    )
    if response.not_modified:
        return PollResult(not_modified=True, etag=state.etag, last_modified=state.last_modified)
    entries = parse_feed(
        response.body,
        project=ctx.project,
        source=url,
        charset=response.charset,
        require_text=False,
        max_bytes=ctx.limits.max_feed_bytes,
    )
    items = []
    for entry in entries:
        video_id = youtube_video_id(entry.url)
        if video_id is None:
            continue
        items.append(
            _video_item(
                ctx.project,
                url,
                video_id,
                entry.title,
                entry.text,
                entry.published_at,
                entry.author,
                [m for m in entry.media_links if "ytimg.com" in m] or [thumbnail_url(video_id)],
            )
        )
    return PollResult(
        candidates=[Candidate(i) for i in items],
        etag=response.etag,
        last_modified=response.last_modified,
    )


def _api_get(url: str, key: str, limits: Limits) -> dict[str, Any]:
    try:
        response = fetch(
            url,
            max_bytes=MAX_API_BYTES,
            timeout_s=limits.fetch_timeout_s,
            headers={"X-Goog-Api-Key": key, "Accept": "application/json"},
        )
    except FetchError as exc:
        raise SourceError(
            f"YouTube Data API: {exc}", retry_after=exc.retry_after
        ) from exc
    try:
        data = json.loads(response.body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise SourceError(f"YouTube Data API answered with invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SourceError("YouTube Data API answered with something other than an object")
    return data


def _best_thumbnail(snippet: dict[str, Any]) -> list[str]:
    thumbs = snippet.get("thumbnails") or {}
    for size in ("maxres", "high", "medium", "default"):
        url = (thumbs.get(size) or {}).get("url")
        if isinstance(url, str):
            return [url]
    return []


def _from_api(source: YoutubeSource, key: str, ctx: PollContext) -> PollResult:
    base = ctx.youtube.api_base_url.rstrip("/")
    if source.api_method == "search":
        url = (
            f"{base}/youtube/v3/search?part=snippet&channelId={source.channel_id}"
            "&order=date&type=video&maxResults=50"
        )
    else:
        uploads = "UU" + source.channel_id[2:]
        url = (
            f"{base}/youtube/v3/playlistItems?part=snippet,contentDetails"
            f"&playlistId={uploads}&maxResults=50"
        )
    data = _api_get(url, key, ctx.limits)
    items: list[SourceItem] = []
    for raw in data.get("items") or []:
        if not isinstance(raw, dict):
            continue
        snippet = raw.get("snippet") or {}
        details = raw.get("contentDetails") or {}
        raw_id = raw.get("id")
        video_id = (
            details.get("videoId")
            or (snippet.get("resourceId") or {}).get("videoId")
            or (raw_id.get("videoId") if isinstance(raw_id, dict) else None)
        )
        if not isinstance(video_id, str) or youtube_video_id(youtube_watch_url(video_id)) is None:
            continue
        items.append(
            _video_item(
                ctx.project,
                f"youtube:{source.channel_id}",
                video_id,
                str(snippet.get("title") or ""),
                str(snippet.get("description") or ""),
                parse_time(details.get("videoPublishedAt") or snippet.get("publishedAt")),
                snippet.get("channelTitle"),
                _best_thumbnail(snippet) or [thumbnail_url(video_id)],
            )
        )
    return PollResult(candidates=[Candidate(i) for i in items])


def poll_youtube(source: YoutubeSource, state: SourceState, ctx: PollContext) -> PollResult:
    key = os.environ.get(source.api_key_env) if source.api_key_env else None
    if source.api_key_env and not key:
        result = _from_feed(source, state, ctx)
        result.notes.append(
            f"{source.api_key_env} is not set: read the channel's public feed instead of the API"
        )
    elif key:
        result = _from_api(source, key, ctx)
    else:
        result = _from_feed(source, state, ctx)
    if source.transcripts:
        enrich = partial(
            with_transcript,
            endpoints=ctx.youtube,
            languages=tuple(source.transcript_languages),
            timeout_s=ctx.limits.fetch_timeout_s,
        )
        for candidate in result.candidates:
            candidate.enrich = enrich
    return result


# transcripts ------------------------------------------------------------------------------


class GuardedSession(requests.Session):
    """A requests session whose every request goes through ``autoclip_core.fetch``."""

    def __init__(self, endpoints: YoutubeEndpoints, timeout_s: float) -> None:
        super().__init__()
        self.trust_env = False
        adapter = _GuardedAdapter(endpoints, timeout_s)
        self.mount("http://", adapter)
        self.mount("https://", adapter)


class _GuardedAdapter(requests.adapters.BaseAdapter):
    def __init__(self, endpoints: YoutubeEndpoints, timeout_s: float) -> None:
        super().__init__()
        self.watch_base = endpoints.watch_base_url.rstrip("/")
        self.timeout_s = timeout_s

    def _rewrite(self, url: str) -> str:
        if url.startswith(YOUTUBE_ORIGIN + "/") and self.watch_base != YOUTUBE_ORIGIN:
            return self.watch_base + url[len(YOUTUBE_ORIGIN) :]
        return url

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        url = self._rewrite(request.url or "")
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in _DROPPED_REQUEST_HEADERS
        }
        body = request.body.encode() if isinstance(request.body, str) else request.body
        try:
            result = fetch(
                url,
                method=request.method or "GET",
                headers=headers,
                content=body,
                max_bytes=MAX_TRANSCRIPT_BYTES,
                timeout_s=self.timeout_s,
            )
            status, content, raw_headers = result.status, result.body, dict(result.headers)
        except FetchError as exc:
            if exc.status is None:
                raise requests.ConnectionError(str(exc), request=request) from exc
            status, content, raw_headers = exc.status, b"", {}
        if "xml" in raw_headers.get("content-type", "") or content.lstrip().startswith(b"<?xml"):
            try:
                safe_xml.fromstring(content, forbid_dtd=True)
            except (DefusedXmlException, safe_xml.ParseError) as exc:
                raise requests.exceptions.ContentDecodingError(
                    f"transcript XML refused ({type(exc).__name__})", request=request
                ) from exc
        response = requests.Response()
        response.status_code = status
        response._content = content
        response._content_consumed = True  # type: ignore[attr-defined]
        response.headers = CaseInsensitiveDict(
            {
                k: v
                for k, v in raw_headers.items()
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
            }
        )
        response.url = url
        response.request = request
        response.reason = "OK" if status < 400 else "Error"
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def fetch_transcript(
    video_id: str, *, endpoints: YoutubeEndpoints, languages: tuple[str, ...], timeout_s: float
) -> tuple[str, str]:
    """(text, language code) of the video's best transcript; raises when there is none."""
    from youtube_transcript_api import YouTubeTranscriptApi

    api = YouTubeTranscriptApi(http_client=GuardedSession(endpoints, timeout_s))
    listing = api.list(video_id)
    try:
        transcript = listing.find_transcript(languages)
    except Exception:
        transcript = next(iter(listing))
    fetched = transcript.fetch()
    lines = [snippet.text.strip() for snippet in fetched if snippet.text.strip()]
    paragraphs = [" ".join(lines[i : i + 8]) for i in range(0, len(lines), 8)]
    return "\n\n".join(paragraphs), transcript.language_code


def with_transcript(
    item: SourceItem,
    *,
    endpoints: YoutubeEndpoints,
    languages: tuple[str, ...],
    timeout_s: float,
) -> tuple[SourceItem, str | None]:
    video_id = youtube_video_id(item.url)
    if video_id is None:
        return item, None
    try:
        text, language = fetch_transcript(
            video_id, endpoints=endpoints, languages=languages, timeout_s=timeout_s
        )
    except Exception as exc:  # no transcript is normal: keep the description
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        if len(lines) > 1 and lines[0].endswith("caused by:"):
            lines = lines[1:]  # youtube-transcript-api: the cause is on the next line
        why = f"{type(exc).__name__}: {lines[0][:160]}" if lines else type(exc).__name__
        return item, f"no transcript for {video_id} ({why})"
    if not text:
        return item, f"empty transcript for {video_id}"
    return item.model_copy(update={"text": text, "language": language}), None
