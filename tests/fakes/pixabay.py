"""A fake Pixabay API, from https://pixabay.com/api/docs/ (search images).

``GET /api/?key=…&q=…`` — the key is a query parameter; a missing or wrong one answers 400
with the plain text ``[ERROR 400] Invalid or missing API key``. ``q`` is at most 100
characters; ``per_page`` 3–200 (default 20); ``image_type`` all, photo, illustration or
vector; ``orientation`` all, horizontal or vertical. The answer is ``{total, totalHits,
hits}``; a hit has ``id``, ``pageURL``, ``type``, ``tags``, ``previewURL``,
``webformatURL``, ``largeImageURL`` (at most 1280 px on its long side), ``imageWidth``,
``imageHeight`` (the upload's), ``user_id``, ``user``, ``userImageURL`` and counters.
Rate-limit headers ``X-RateLimit-Limit/Remaining/Reset`` come with every answer. The pictures
are real JPEGs served by the same server (``/get/…``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from tests.fakes.pictures import picture, query_ids
from tests.fakes.server import FakeServer, Reply, Request

SEARCH = "/api/"
LARGE = re.compile(r"^/get/(\d+)_1280\.jpg$")
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

    def __post_init__(self) -> None:
        self.server.route(SEARCH, self.search)

    @property
    def base_url(self) -> str:
        return self.server.base

    def search(self, request: Request) -> Reply:
        if request.query.get("key") != self.api_key:
            return text_error(400, "Invalid or missing API key")
        query = request.query.get("q", "")
        if len(query) > 100:
            return text_error(400, '"q" exceeds the maximum length of 100 characters.')
        per_page = int(request.query.get("per_page", "20"))
        if not 3 <= per_page <= 200:
            return text_error(400, '"per_page" is out of valid range.')
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
