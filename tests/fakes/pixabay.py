"""A fake Pixabay API, from https://pixabay.com/api/docs/ (search images and videos).

``GET /api/?key=…&q=…`` — the key is a query parameter; a missing or wrong one answers 400
with the plain text ``[ERROR 400] Invalid or missing API key``. ``q`` is at most 100
characters; ``per_page`` 3–200 (default 20); ``image_type`` all, photo, illustration or
vector; ``orientation`` all, horizontal or vertical. The answer is ``{total, totalHits,
hits}``; a hit has ``id``, ``pageURL``, ``type``, ``tags``, ``previewURL``,
``webformatURL``, ``largeImageURL`` (at most 1280 px on its long side), ``imageWidth``,
``imageHeight`` (the upload's), ``user_id``, ``user``, ``userImageURL`` and counters.
Rate-limit headers ``X-RateLimit-Limit/Remaining/Reset`` come with every answer. The pictures
are real JPEGs served by the same server (``/get/…``).

``GET /api/videos/?key=…&q=…`` takes the same key, ``q``, ``lang``, ``safesearch`` and
``per_page``, and ``video_type`` all, film or animation (no orientation). A hit has ``id``,
``pageURL``, ``type``, ``tags``, ``duration``, ``user_id``, ``user``, ``userImageURL``,
counters and ``videos``: ``large``, ``medium``, ``small`` and ``tiny``, each ``{url, width,
height, size, thumbnail}``; ``large`` has an empty ``url`` and ``size`` 0 when the upload
has none (as here). The files are real mp4s (``tests.fakes.clips``) at sizes scaled down
from Pixabay's (medium 960x540, or 540x960 for the ids in ``vertical``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from tests.fakes.clips import make_mp4, truncated
from tests.fakes.pictures import picture, query_ids
from tests.fakes.server import FakeServer, Reply, Request

SEARCH = "/api/"
VIDEO_SEARCH = "/api/videos/"
LARGE = re.compile(r"^/get/(\d+)_1280\.jpg$")
VIDEO_FILE = re.compile(r"^/video/(\d+)_(medium|small|tiny)\.mp4$")
# Rendition -> its share of the medium size.
RENDITIONS = {"medium": 1.0, "small": 2 / 3, "tiny": 0.5}
UPLOADS = {"vertical": (2400, 4000), "horizontal": (4000, 2400), "all": (3000, 3000)}
RATE_HEADERS = {
    "X-RateLimit-Limit": "100",
    "X-RateLimit-Remaining": "99",
    "X-RateLimit-Reset": "60",
}


def text_error(status: int, message: str) -> Reply:
    return Reply(
        status=status,
        body=f"[ERROR {status}] {message}".encode(),
        headers={"Content-Type": "text/plain; charset=utf-8", **RATE_HEADERS},
    )


def fitted(width: int, height: int, longest: int) -> tuple[int, int]:
    scale = min(1.0, longest / max(width, height))
    return round(width * scale), round(height * scale)


@dataclass
class FakePixabay:
    server: FakeServer
    api_key: str = "pixabay-test-key"
    hits_per_query: int = 5
    uploads: dict[int, tuple[int, int]] = field(default_factory=dict)
    broken: set[int] = field(default_factory=set)
    """Hit ids whose picture is not an image."""
    videos_per_query: int = 4
    video_seconds: int = 3
    vertical: set[int] = field(default_factory=set)
    """Video ids uploaded in portrait."""
    corrupt_videos: set[int] = field(default_factory=set)
    """Video ids whose file is cut short."""

    def __post_init__(self) -> None:
        self.server.route(SEARCH, self.search)
        self.server.route(VIDEO_SEARCH, self.video_search)

    @property
    def base_url(self) -> str:
        return self.server.base

    def refusal(self, request: Request) -> Reply | None:
        """The answer to a search with a bad key, query or page size, else None."""
        if request.query.get("key") != self.api_key:
            return text_error(400, "Invalid or missing API key")
        if len(request.query.get("q", "")) > 100:
            return text_error(400, '"q" exceeds the maximum length of 100 characters.')
        if not 3 <= int(request.query.get("per_page", "20")) <= 200:
            return text_error(400, '"per_page" is out of valid range.')
        return None

    def search(self, request: Request) -> Reply:
        if (refused := self.refusal(request)) is not None:
            return refused
        query = request.query.get("q", "")
        per_page = int(request.query.get("per_page", "20"))
        if request.query.get("image_type", "all") not in ("all", "photo", "illustration", "vector"):
            return text_error(400, '"image_type" is invalid.')
        orientation = request.query.get("orientation", "all")
        if orientation not in UPLOADS:
            return text_error(400, '"orientation" is invalid.')
        hits = []
        for hit_id in query_ids(query, self.hits_per_query, start=7000)[:per_page]:
            self.uploads[hit_id] = UPLOADS[orientation]
            self.server.route(f"/get/{hit_id}_1280.jpg", self.image)
            hits.append(self.hit(hit_id, query))
        body = {"total": len(hits), "totalHits": len(hits), "hits": hits}
        return Reply(
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **RATE_HEADERS},
        )

    def hit(self, hit_id: int, query: str) -> dict[str, object]:
        width, height = self.uploads[hit_id]
        web_w, web_h = fitted(width, height, 640)
        return {
            "id": hit_id,
            "pageURL": f"https://pixabay.com/photos/scene-{hit_id}/",
            "type": "photo",
            "tags": ", ".join(query.split()[:3]),
            "previewURL": f"https://cdn.pixabay.com/photo/{hit_id}_150.jpg",
            "previewWidth": 90,
            "previewHeight": 150,
            "webformatURL": f"https://pixabay.com/get/{hit_id}_640.jpg",
            "webformatWidth": web_w,
            "webformatHeight": web_h,
            "largeImageURL": self.server.url(f"/get/{hit_id}_1280.jpg"),
            "imageWidth": width,
            "imageHeight": height,
            "imageSize": width * height // 4,
            "views": 1000,
            "downloads": 500,
            "collections": 10,
            "likes": 20,
            "comments": 2,
            "user_id": hit_id % 997,
            "user": f"user{hit_id % 997}",
            "userImageURL": "",
        }

    def image(self, request: Request) -> Reply:
        match = LARGE.match(request.path)
        assert match, request.path
        hit_id = int(match.group(1))
        if hit_id in self.broken:
            return Reply(body=b"\xff\xd8\xff\xe0 truncated", headers={"Content-Type": "image/jpeg"})
        width, height = fitted(*self.uploads[hit_id], 1280)
        return Reply(
            body=picture(f"pixabay-{hit_id}", width, height),
            headers={"Content-Type": "image/jpeg"},
        )

    def video_ids(self, query: str) -> list[int]:
        return query_ids(query, self.videos_per_query, start=9000)

    def video_search(self, request: Request) -> Reply:
        if (refused := self.refusal(request)) is not None:
            return refused
        if request.query.get("video_type", "all") not in ("all", "film", "animation"):
            return text_error(400, '"video_type" is invalid.')
        query = request.query.get("q", "")
        per_page = int(request.query.get("per_page", "20"))
        hits = [self.video_hit(i, query) for i in self.video_ids(query)[:per_page]]
        body = {"total": len(hits), "totalHits": len(hits), "hits": hits}
        return Reply(
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **RATE_HEADERS},
        )

    def video_size(self, video_id: int, rendition: str) -> tuple[int, int]:
        width, height = (540, 960) if video_id in self.vertical else (960, 540)
        share = RENDITIONS[rendition]
        return round(width * share / 2) * 2, round(height * share / 2) * 2

    def video_hit(self, video_id: int, query: str) -> dict[str, object]:
        videos: dict[str, object] = {
            "large": {"url": "", "width": 0, "height": 0, "size": 0, "thumbnail": ""}
        }
        for name in RENDITIONS:
            width, height = self.video_size(video_id, name)
            path = f"/video/{video_id}_{name}.mp4"
            self.server.route(path, self.video_file)
            videos[name] = {
                "url": self.server.url(path),
                "width": width,
                "height": height,
                "size": width * height // 8,
                "thumbnail": f"https://cdn.pixabay.com/video/{video_id}_{name}.jpg",
            }
        return {
            "id": video_id,
            "pageURL": f"https://pixabay.com/videos/scene-{video_id}/",
            "type": "film",
            "tags": ", ".join(query.split()[:3]),
            "duration": self.video_seconds,
            "videos": videos,
            "views": 1000,
            "downloads": 500,
            "likes": 20,
            "comments": 2,
            "user_id": video_id % 991,
            "user": f"filmer{video_id % 991}",
            "userImageURL": "",
        }

    def video_file(self, request: Request) -> Reply:
        match = VIDEO_FILE.match(request.path)
        assert match, request.path
        video_id = int(match.group(1))
        data = make_mp4(*self.video_size(video_id, match.group(2)), 25, self.video_seconds)
        if video_id in self.corrupt_videos:
            data = truncated(data)
        return Reply(body=data, headers={"Content-Type": "video/mp4"})
