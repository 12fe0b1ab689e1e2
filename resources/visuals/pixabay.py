"""Pixabay image and video search (https://pixabay.com/api/docs/).

Images: ``GET /api/?key=…&q=…&image_type=photo&orientation=vertical`` — the key is a query
parameter. ``hits[].largeImageURL`` is the picture scaled to at most 1280 px on its long
side; ``imageWidth``/``imageHeight`` are the upload's.

Videos: ``GET /api/videos/?key=…&q=…&video_type=film`` (no orientation filter). A hit has
``duration`` (seconds), ``user``, ``pageURL`` and ``videos``: the renditions ``large``
(usually 3840x2160; an empty ``url`` and ``size`` 0 when there is none), ``medium``
(usually 1920x1080), ``small`` and ``tiny``, each ``{url, width, height, size, thumbnail}``.

Errors are plain text (``[ERROR 400] …``). The Content License needs no attribution, but
the API terms ask to show where the pictures come from, so the credit is kept as required.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import httpx

from autoclip_core.schemas import Credit
from resources.errors import VisualsError
from resources.vendors.http import error_text
from resources.visuals.base import SceneCard
from resources.visuals.stock import (
    MAX_VIDEO_BYTES,
    Rendition,
    SearchProtocol,
    StockClip,
    StockPhoto,
    StockVisuals,
    fitted,
    rendition,
    search_words,
)

NAME = "pixabay"
LICENCE = "Pixabay Content License"
LARGE_BOX = (1280, 1280)
# The API takes 3 to 200 results per page.
PER_PAGE_RANGE = (3, 200)


def request(
    path: str, base_url: str, card: SceneCard, params: dict[str, str], per_page: int
) -> httpx.Request:
    query = {
        **params,
        "q": search_words(card),
        "lang": card.language,
        "safesearch": "true",
        "per_page": str(min(max(per_page, PER_PAGE_RANGE[0]), PER_PAGE_RANGE[1])),
    }
    return httpx.Request(
        "GET", f"{base_url.rstrip('/')}{path}", params=query, headers={"Accept": "application/json"}
    )


def search_request(base_url: str, api_key: str, card: SceneCard, per_page: int) -> httpx.Request:
    orientation = "vertical" if card.height >= card.width else "horizontal"
    params = {"key": api_key, "image_type": "photo", "orientation": orientation}
    return request("/api/", base_url, card, params, per_page)


def video_search_request(
    base_url: str, api_key: str, card: SceneCard, per_page: int
) -> httpx.Request:
    return request("/api/videos/", base_url, card, {"key": api_key, "video_type": "film"}, per_page)


def credit(hit: dict[str, Any], medium: Literal["photo", "video"]) -> Credit:
    return Credit(
        provider=NAME,
        licence=LICENCE,
        author=hit.get("user"),
        author_url=None,
        source_url=hit.get("pageURL"),
        required=True,
        medium=medium,
    )


def parse_search(body: dict[str, Any], card: SceneCard) -> list[StockPhoto]:
    """The hits, each at its ``largeImageURL`` size (the card does not change which)."""
    try:
        found = []
        for hit in body["hits"]:
            width, height = fitted(int(hit["imageWidth"]), int(hit["imageHeight"]), LARGE_BOX)
            found.append(
                StockPhoto(
                    f"{NAME}:{hit['id']}", hit["largeImageURL"], width, height, credit(hit, "photo")
                )
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise VisualsError(f"pixabay: unexpected search answer ({exc!r})") from exc
    return found


def video_renditions(hit: dict[str, Any]) -> list[Rendition]:
    """The hit's renditions that exist and are small enough to download."""
    return [
        Rendition(v["url"], int(v["width"]), int(v["height"]))
        for v in hit["videos"].values()
        if isinstance(v, dict) and v.get("url") and int(v.get("size") or 0) <= MAX_VIDEO_BYTES
    ]


def parse_video_search(body: dict[str, Any], card: SceneCard) -> list[StockClip]:
    """The hits that have a rendition big enough for the card, each at the one that suits it."""
    try:
        found = []
        for hit in body["hits"]:
            best = rendition(video_renditions(hit), card)
            if best is None:
                continue
            source_id = f"{NAME}-video:{hit['id']}"
            duration = float(hit["duration"])
            found.append(
                StockClip(
                    source_id, best.url, best.width, best.height, duration, credit(hit, "video")
                )
            )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise VisualsError(f"pixabay: unexpected video search answer ({exc!r})") from exc
    return found


class PixabayVisuals(StockVisuals):
    """Scene photos and clips from Pixabay."""

    vendor: ClassVar[str] = NAME
    protocol: ClassVar[SearchProtocol] = SearchProtocol(
        search_request, parse_search, error_text, video_search_request, parse_video_search
    )
