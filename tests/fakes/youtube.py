"""A fake YouTube on a ``FakeServer``: channel Atom feed, Data API v3 (playlistItems,
search), and the transcript protocol youtube-transcript-api speaks (watch page →
innertube player → timedtext XML). Shapes follow the public documentation/real answers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from autoclip_core.ingest.config import YoutubeEndpoints
from tests.fakes.server import FakeServer, Reply, Request

INNERTUBE_KEY = "fakeInnertubeKey_123"


@dataclass
class Video:
    video_id: str
    title: str
    description: str
    published: str = "2024-05-01T09:00:00+00:00"
    transcript: tuple[str, list[str]] | None = None
    """(language code, caption lines) or None when captions are disabled."""


@dataclass
class FakeYouTube:
    server: FakeServer
    channel_id: str
    videos: list[Video]
    api_key: str = "test-api-key"
    quota_exceeded: bool = False
    hostile_transcript: bytes | None = None
    api_calls: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = self.server
        s.route("/feeds/videos.xml", self._feed)
        s.route("/youtube/v3/playlistItems", self._playlist_items)
        s.route("/youtube/v3/search", self._search)
        s.route("/watch", self._watch)
        s.route("/youtubei/v1/player", self._player)
        s.route("/api/timedtext", self._timedtext)

    @property
    def endpoints(self) -> YoutubeEndpoints:
        return YoutubeEndpoints(
            feed_base_url=self.server.base,
            api_base_url=self.server.base,
            watch_base_url=self.server.base,
        )

    def _video(self, video_id: str | None) -> Video | None:
        return next((v for v in self.videos if v.video_id == video_id), None)

    # feed -------------------------------------------------------------------------------

    def _feed(self, request: Request) -> Reply:
        if request.query.get("channel_id") != self.channel_id:
            return Reply(status=404)
        entries = "".join(
            f"""<entry><id>yt:video:{v.video_id}</id><yt:videoId>{v.video_id}</yt:videoId>
  <yt:channelId>{self.channel_id}</yt:channelId><title>{escape(v.title)}</title>
  <link rel="alternate" href="https://www.youtube.com/watch?v={v.video_id}"/>
  <author><name>Fake Channel</name></author>
  <published>{v.published}</published><updated>{v.published}</updated>
  <media:group><media:title>{escape(v.title)}</media:title>
   <media:content url="https://www.youtube.com/v/{v.video_id}?version=3"
    type="application/x-shockwave-flash"/>
   <media:thumbnail url="https://i1.ytimg.com/vi/{v.video_id}/hqdefault.jpg"
    width="480" height="360"/>
   <media:description>{escape(v.description)}</media:description></media:group></entry>"""
            for v in self.videos
        )
        body = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015"
 xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">
 <id>yt:channel:{self.channel_id[2:]}</id><yt:channelId>{self.channel_id}</yt:channelId>
 <title>Fake Channel</title>{entries}</feed>"""
        etag = f'"{len(self.videos)}"'
        if request.headers.get("if-none-match") == etag:
            return Reply(status=304, headers={"ETag": etag})
        return Reply(body=body.encode(), headers={"Content-Type": "application/atom+xml",
                                                   "ETag": etag})  # fmt: skip

    # Data API v3 ------------------------------------------------------------------------

    def _api_error(self, request: Request) -> Reply | None:
        self.api_calls.append(request)
        if request.headers.get("x-goog-api-key") != self.api_key:
            return self._error(400, "badRequest", "API key not valid. Please pass a valid API key.")
        if self.quota_exceeded:
            return self._error(403, "quotaExceeded", "The request cannot be completed because "
                               "you have exceeded your quota.")  # fmt: skip
        return None

    @staticmethod
    def _error(status: int, reason: str, message: str) -> Reply:
        body = {"error": {"code": status, "message": message,
                          "errors": [{"message": message, "domain": "youtube.quota",
                                      "reason": reason}]}}  # fmt: skip
        return Reply(status=status, body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json"})  # fmt: skip

    @staticmethod
    def _snippet(v: Video) -> dict[str, object]:
        return {
            "publishedAt": v.published.replace("+00:00", "Z"),
            "title": v.title,
            "description": v.description,
            "thumbnails": {"high": {"url": f"https://i.ytimg.com/vi/{v.video_id}/hqdefault.jpg"}},
            "channelTitle": "Fake Channel",
        }

    def _playlist_items(self, request: Request) -> Reply:
        if (error := self._api_error(request)) is not None:
            return error
        if request.query.get("playlistId") != "UU" + self.channel_id[2:]:
            return self._error(404, "playlistNotFound", "The playlist cannot be found.")
        items = [
            {
                "kind": "youtube#playlistItem",
                "id": f"item-{v.video_id}",
                "snippet": {
                    **self._snippet(v),
                    "resourceId": {"kind": "youtube#video", "videoId": v.video_id},
                },
                "contentDetails": {
                    "videoId": v.video_id,
                    "videoPublishedAt": v.published.replace("+00:00", "Z"),
                },
            }
            for v in self.videos
        ]
        return self._json({"kind": "youtube#playlistItemListResponse", "items": items})

    def _search(self, request: Request) -> Reply:
        if (error := self._api_error(request)) is not None:
            return error
        items = [
            {
                "kind": "youtube#searchResult",
                "id": {"kind": "youtube#video", "videoId": v.video_id},
                "snippet": self._snippet(v),
            }
            for v in self.videos
        ]
        return self._json({"kind": "youtube#searchListResponse", "items": items})

    @staticmethod
    def _json(data: object) -> Reply:
        return Reply(body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})

    # transcripts ------------------------------------------------------------------------

    def _watch(self, request: Request) -> Reply:
        if self._video(request.query.get("v")) is None:
            return Reply(status=404)
        html = (
            "<!DOCTYPE html><html><head><script>var ytcfg={"
            f'"INNERTUBE_API_KEY": "{INNERTUBE_KEY}","INNERTUBE_CONTEXT_CLIENT_NAME":1}};'
            "</script></head><body>watch</body></html>"
        )
        return Reply(body=html.encode(), headers={"Content-Type": "text/html; charset=utf-8"})

    def _player(self, request: Request) -> Reply:
        if request.method != "POST" or request.query.get("key") != INNERTUBE_KEY:
            return Reply(status=403)
        video = self._video(json.loads(request.body or b"{}").get("videoId"))
        if video is None:
            unavailable = {"status": "ERROR", "reason": "This video is unavailable"}
            return self._json({"playabilityStatus": unavailable})
        data: dict[str, object] = {"playabilityStatus": {"status": "OK"}}
        if video.transcript is not None:
            language = video.transcript[0]
            data["captions"] = {
                "playerCaptionsTracklistRenderer": {
                    "captionTracks": [{
                        "baseUrl": "https://www.youtube.com/api/timedtext?v="
                                   f"{video.video_id}&lang={language}",
                        "name": {"runs": [{"text": language}]},
                        "languageCode": language,
                        "kind": "",
                        "isTranslatable": False,
                    }],
                    "translationLanguages": [],
                }
            }  # fmt: skip
        return self._json(data)

    def _timedtext(self, request: Request) -> Reply:
        if self.hostile_transcript is not None:
            return Reply(body=self.hostile_transcript, headers={"Content-Type": "text/xml"})
        video = self._video(request.query.get("v"))
        if video is None or video.transcript is None:
            return Reply(status=404)
        lines = "".join(
            f'<text start="{n * 2.5}" dur="2.5">{escape(escape(line))}</text>'
            for n, line in enumerate(video.transcript[1])
        )
        body = f'<?xml version="1.0" encoding="utf-8" ?><transcript>{lines}</transcript>'
        return Reply(body=body.encode(), headers={"Content-Type": "text/xml; charset=UTF-8"})
