"""A fake Pexels API, from https://www.pexels.com/api/documentation/ (photo search).

``GET /v1/search`` needs the key itself in ``Authorization`` (a ``Bearer`` prefix is a
wrong key: 401); ``query`` is required (400 without); ``per_page`` defaults to 15, at
most 80; ``orientation`` is landscape, portrait or square. The answer is
``{page, per_page, photos, total_results, next_page?}``; each photo has ``id``, ``width``,
``height``, ``url``, ``photographer``, ``photographer_url``, ``photographer_id``,
``avg_color``, ``alt`` and ``src`` (original, large2x, large, medium, small, portrait,
landscape, tiny). Rate-limit headers ``X-Ratelimit-Limit/Remaining/Reset`` come with every
success. The images are real JPEGs served by the same server (``/photos/…``), so downloads
go through the fetcher against loopback.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from tests.fakes.pictures import picture, query_ids
from tests.fakes.server import FakeServer, Reply, Request

SEARCH = "/v1/search"
PHOTO = re.compile(r"^/photos/(\d+)/pexels-photo-\d+\.jpeg$")
ORIENTATIONS = {
    "portrait": (1200, 2000),
    "landscape": (2000, 1200),
    "square": (1600, 1600),
    "": (1600, 1200),
}


def json_reply(status: int, body: object, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@dataclass
class FakePexels:
    server: FakeServer
    api_key: str = "pexels-test-key"
    photos_per_query: int = 5
    one_catalogue: bool = False
    """Every query finds the same photos (a vendor with little on the topics)."""
    sizes: dict[int, tuple[int, int]] = field(default_factory=dict)
    broken: set[int] = field(default_factory=set)
    """Photo ids whose file is not an image."""
    tiny: set[int] = field(default_factory=set)
    """Photo ids whose file is far smaller than the answer says."""

    def __post_init__(self) -> None:
        self.server.route(SEARCH, self.search)

    @property
    def base_url(self) -> str:
        return self.server.base

    def photo_path(self, photo_id: int, query: str = "") -> str:
        return f"/photos/{photo_id}/pexels-photo-{photo_id}.jpeg{query}"

    def search(self, request: Request) -> Reply:
        if request.headers.get("authorization") != self.api_key:
            return json_reply(401, {"error": "Unauthorized"})
        query = request.query.get("query", "").strip()
        if not query:
            return json_reply(400, {"error": "query is required"})
        per_page = min(int(request.query.get("per_page", "15")), 80)
        orientation = request.query.get("orientation", "")
        width, height = ORIENTATIONS[orientation]
        photos = []
        catalogue = "catalogue" if self.one_catalogue else query
        for photo_id in query_ids(catalogue, self.photos_per_query)[:per_page]:
            self.sizes[photo_id] = (width, height)
            photos.append(self.photo(photo_id, width, height))
            self.server.route(self.photo_path(photo_id), self.image)
        return json_reply(
            200,
            {
                "page": 1,
                "per_page": per_page,
                "photos": photos,
                "total_results": len(photos),
            },
            {"X-Ratelimit-Limit": "20000", "X-Ratelimit-Remaining": "19999"},
        )

    def photo(self, photo_id: int, width: int, height: int) -> dict[str, object]:
        original = self.server.url(self.photo_path(photo_id))
        sized = original + "?auto=compress&cs=tinysrgb"
        return {
            "id": photo_id,
            "width": width,
            "height": height,
            "url": f"https://www.pexels.com/photo/scene-{photo_id}/",
            "photographer": f"Photographer {photo_id % 97}",
            "photographer_url": f"https://www.pexels.com/@photographer-{photo_id % 97}",
            "photographer_id": photo_id % 97,
            "avg_color": "#7E7E7E",
            "alt": "a scene",
            "liked": False,
            "src": {
                "original": original,
                "large2x": f"{sized}&dpr=2&h=650&w=940",
                "large": f"{sized}&h=650&w=940",
                "medium": f"{sized}&h=350",
                "small": f"{sized}&h=130",
                "portrait": f"{sized}&fit=crop&h=1200&w=800",
                "landscape": f"{sized}&fit=crop&h=627&w=1200",
                "tiny": f"{sized}&dpr=1&fit=crop&h=200&w=280",
            },
        }

    def image(self, request: Request) -> Reply:
        match = PHOTO.match(request.path)
        assert match, request.path
        photo_id = int(match.group(1))
        width, height = self.sizes[photo_id]
        if photo_id in self.broken:
            return Reply(body=b"<html>not an image</html>", headers={"Content-Type": "image/jpeg"})
        if photo_id in self.tiny:
            width, height = 60, 100
        elif request.query.get("w") and request.query.get("h"):
            # src sizes other than the original: shrunk to fit w*dpr x h*dpr.
            dpr = int(request.query.get("dpr", "1"))
            box_w, box_h = int(request.query["w"]) * dpr, int(request.query["h"]) * dpr
            scale = min(1.0, box_w / width, box_h / height)
            width, height = round(width * scale), round(height * scale)
        return Reply(
            body=picture(f"pexels-{photo_id}", width, height),
            headers={"Content-Type": "image/jpeg"},
        )
