"""Pexels photo and video search (https://www.pexels.com/api/documentation/).

Photos: ``GET /v1/search?query=…&orientation=portrait&per_page=…`` with the key itself in
``Authorization`` (no ``Bearer``). Each photo has ``src`` URLs in several sizes:
``large2x`` fits within 1880x1300, ``original`` is the upload.

Videos: ``GET /videos/search`` (no version in the path) with the same parameters and key.
Each video has ``duration`` (whole seconds), ``user`` (``name``, ``url``), its page ``url``
and ``video_files``: one entry per rendition (``quality`` uhd/hd/sd, ``file_type``,
``width``, ``height``, ``fps``, ``link``); streaming renditions may have no size.

The Pexels licence needs no attribution, but the API terms ask to credit the photographer
or videographer and Pexels, so the credit is kept as required.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import httpx

from autoclip_core.schemas import Credit
from resources.errors import VisualsError
from resources.visuals.base import SceneCard
from resources.visuals.stock import (
    Rendition,
    SearchProtocol,
    StockClip,
    StockPhoto,
    StockVisuals,
    cover_scale,
    fitted,
    rendition,
    search_words,
)

NAME = "pexels"
LICENCE = "Pexels License"
LARGE2X_BOX = (1880, 1300)
LOCALES = {"ko": "ko-KR", "en": "en-US"}


def request(
    path: str, base_url: str, api_key: str, card: SceneCard, per_page: int
) -> httpx.Request:
    params = {
        "query": search_words(card),
        "orientation": "portrait" if card.height >= card.width else "landscape",
        "per_page": str(per_page),
        "locale": LOCALES[card.language],
    }
    return httpx.Request(
        "GET",
        f"{base_url.rstrip('/')}{path}",
        params=params,
        headers={"Authorization": api_key, "Accept": "application/json"},
    )


def search_request(base_url: str, api_key: str, card: SceneCard, per_page: int) -> httpx.Request:
    return request("/v1/search", base_url, api_key, card, per_page)


def video_search_request(
    base_url: str, api_key: str, card: SceneCard, per_page: int
) -> httpx.Request:
    return request("/videos/search", base_url, api_key, card, per_page)


def credit(
    author: Any, author_url: Any, source_url: Any, medium: Literal["photo", "video"]
) -> Credit:
    return Credit(
        provider=NAME,
        licence=LICENCE,
        author=author,
        author_url=author_url,
        source_url=source_url,
        required=True,
        medium=medium,
    )


def photo_source(photo: dict[str, Any], card: SceneCard) -> tuple[str, int, int]:
    """``large2x`` when it covers the card without enlarging, else the original upload."""
    width, height = int(photo["width"]), int(photo["height"])
    src = photo["src"]
    large = fitted(width, height, LARGE2X_BOX)
    if src.get("large2x") and cover_scale(*large, card) <= 1.0:
        return src["large2x"], *large
    return src["original"], width, height


def parse_search(body: dict[str, Any], card: SceneCard) -> list[StockPhoto]:
    try:
        found = []
        for photo in body["photos"]:
            url, width, height = photo_source(photo, card)
            by = credit(
                photo.get("photographer"), photo.get("photographer_url"), photo.get("url"), "photo"
            )
            found.append(StockPhoto(f"{NAME}:{photo['id']}", url, width, height, by))
    except (KeyError, TypeError, ValueError) as exc:
        raise VisualsError(f"pexels: unexpected search answer ({exc!r})") from exc
    return found


def video_renditions(video: dict[str, Any]) -> list[Rendition]:
    """The video's mp4 files of a known size."""
    return [
        Rendition(f["link"], int(f["width"]), int(f["height"]))
        for f in video["video_files"]
        if f.get("file_type") == "video/mp4" and f.get("width") and f.get("height")
    ]


def parse_video_search(body: dict[str, Any], card: SceneCard) -> list[StockClip]:
    """The videos that have a file big enough for the card, each at the file that suits it."""
    try:
        found = []
        for video in body["videos"]:
            best = rendition(video_renditions(video), card)
            if best is None:
                continue
            user = video.get("user") or {}
            by = credit(user.get("name"), user.get("url"), video.get("url"), "video")
            source_id = f"{NAME}-video:{video['id']}"
            duration = float(video["duration"])
            found.append(StockClip(source_id, best.url, best.width, best.height, duration, by))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise VisualsError(f"pexels: unexpected video search answer ({exc!r})") from exc
    return found


def error_message(response: httpx.Response) -> str:
    """Pexels answers errors as JSON ``{"error": …}`` or, at its edge, as plain text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(body, dict):
        for field in ("error", "message", "code"):
            if isinstance(body.get(field), str):
                return body[field]
    return response.reason_phrase


class PexelsVisuals(StockVisuals):
    """Scene photos and clips from Pexels."""

    vendor: ClassVar[str] = NAME
    protocol: ClassVar[SearchProtocol] = SearchProtocol(
        search_request, parse_search, error_message, video_search_request, parse_video_search
    )
