"""A fake Pexels API, from https://www.pexels.com/api/documentation/ (photo and video search).

``GET /v1/search`` needs the key itself in ``Authorization`` (a ``Bearer`` prefix is a
wrong key: 401); ``query`` is required (400 without); ``per_page`` defaults to 15, at
most 80; ``orientation`` is landscape, portrait or square. The answer is
``{page, per_page, photos, total_results, next_page?}``; each photo has ``id``, ``width``,
``height``, ``url``, ``photographer``, ``photographer_url``, ``photographer_id``,
``avg_color``, ``alt`` and ``src`` (original, large2x, large, medium, small, portrait,
landscape, tiny). Rate-limit headers ``X-Ratelimit-Limit/Remaining/Reset`` come with every
success. The images are real JPEGs served by the same server (``/photos/…``), so downloads
go through the fetcher against loopback.

``GET /videos/search`` takes the same parameters and key and answers ``{page, per_page,
videos, total_results, url}``; each video has ``id``, ``width``, ``height``, ``url``,
``image``, ``duration`` (whole seconds), ``user`` (``id``, ``name``, ``url``),
``video_files`` (``id``, ``quality`` hd/sd, ``file_type``, ``width``, ``height``, ``fps``,
``link``; an HLS rendition without a size too) and ``video_pictures``. The files are real
mp4s (``tests.fakes.clips``), at sizes scaled down from Pexels' so tests stay fast.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from tests.fakes.clips import make_mp4, truncated
from tests.fakes.pictures import picture, query_ids
from tests.fakes.server import FakeServer, Reply, Request

SEARCH = "/v1/search"
VIDEO_SEARCH = "/videos/search"
PHOTO = re.compile(r"^/photos/(\d+)/pexels-photo-\d+\.jpeg$")
VIDEO_FILE = re.compile(r"^/video-files/(\d+)/\d+-(hd|sd)_(\d+)_(\d+)_25fps\.mp4$")
# The hd rendition's size per orientation; sd is half of it.
VIDEO_SIZES = {
    "portrait": (540, 960),
    "landscape": (960, 540),
    "square": (720, 720),
    "": (960, 540),
}
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
    videos_per_query: int = 4
    video_seconds: dict[int, int] = field(default_factory=dict)
    """Each video's length as the answer states it (``default_video_seconds`` otherwise)."""
    default_video_seconds: int = 3
    corrupt_videos: set[int] = field(default_factory=set)
    """Video ids whose file is cut short."""
    short_videos: set[int] = field(default_factory=set)
    """Video ids whose file lasts one second, whatever the answer says."""
    not_videos: set[int] = field(default_factory=set)
    """Video ids whose file is an HTML page."""

    def __post_init__(self) -> None:
        self.server.route(SEARCH, self.search)
        self.server.route(VIDEO_SEARCH, self.video_search)

    @property
    def base_url(self) -> str:
        return self.server.base

    def photo_path(self, photo_id: int, query: str = "") -> str:
        return f"/photos/{photo_id}/pexels-photo-{photo_id}.jpeg{query}"

    def refusal(self, request: Request) -> Reply | None:
        """The answer to a search without the key or a query, else None."""
        if request.headers.get("authorization") != self.api_key:
            return json_reply(401, {"error": "Unauthorized"})
        if not request.query.get("query", "").strip():
            return json_reply(400, {"error": "query is required"})
        return None

    def search(self, request: Request) -> Reply:
        if (refused := self.refusal(request)) is not None:
            return refused
        query = request.query["query"].strip()
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

    def video_ids(self, query: str) -> list[int]:
        return query_ids(query, self.videos_per_query, start=5000)

    def video_search(self, request: Request) -> Reply:
        if (refused := self.refusal(request)) is not None:
            return refused
        query = request.query["query"].strip()
        per_page = min(int(request.query.get("per_page", "15")), 80)
        width, height = VIDEO_SIZES[request.query.get("orientation", "")]
        videos = [self.video(i, width, height) for i in self.video_ids(query)[:per_page]]
        body = {
            "page": 1,
            "per_page": per_page,
            "videos": videos,
            "total_results": len(videos),
            "url": f"https://www.pexels.com/search/videos/{query}/",
        }
        return json_reply(
            200, body, {"X-Ratelimit-Limit": "20000", "X-Ratelimit-Remaining": "19998"}
        )

    def video(self, video_id: int, width: int, height: int) -> dict[str, object]:
        files: list[dict[str, object]] = [
            {
                "id": video_id * 10 + 9,
                "quality": None,
                "file_type": "video/mp4",
                "width": None,
                "height": None,
                "fps": None,
                "link": f"https://player.vimeo.com/external/{video_id}.m3u8",
            }
        ]
        for n, (quality, scale) in enumerate((("sd", 2), ("hd", 1))):
            w, h = width // scale, height // scale
            path = f"/video-files/{video_id}/{video_id}-{quality}_{w}_{h}_25fps.mp4"
            self.server.route(path, self.video_file)
            files.append(
                {
                    "id": video_id * 10 + n,
                    "quality": quality,
                    "file_type": "video/mp4",
                    "width": w,
                    "height": h,
                    "fps": 25,
                    "link": self.server.url(path),
                }
            )
        return {
            "id": video_id,
            "width": width,
            "height": height,
            "url": f"https://www.pexels.com/video/scene-{video_id}/",
            "image": f"https://images.pexels.com/videos/{video_id}/pictures/preview-0.jpg",
            "duration": self.video_seconds.get(video_id, self.default_video_seconds),
            "user": {
                "id": video_id % 89,
                "name": f"Videographer {video_id % 89}",
                "url": f"https://www.pexels.com/@videographer-{video_id % 89}",
            },
            "video_files": files,
            "video_pictures": [
                {
                    "id": video_id * 10 + 5,
                    "picture": f"https://images.pexels.com/videos/{video_id}/pictures/0.jpg",
                    "nr": 0,
                }
            ],
        }

    def video_file(self, request: Request) -> Reply:
        match = VIDEO_FILE.match(request.path)
        assert match, request.path
        video_id, width, height = int(match.group(1)), int(match.group(3)), int(match.group(4))
        if video_id in self.not_videos:
            return Reply(body=b"<html>moved</html>", headers={"Content-Type": "video/mp4"})
        seconds = (
            1
            if video_id in self.short_videos
            else self.video_seconds.get(video_id, self.default_video_seconds)
        )
        data = make_mp4(width, height, 25, seconds)
        if video_id in self.corrupt_videos:
            data = truncated(data)
        return Reply(body=data, headers={"Content-Type": "video/mp4"})
