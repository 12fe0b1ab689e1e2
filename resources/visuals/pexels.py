"""Pexels photo search (https://www.pexels.com/api/documentation/).

``GET /v1/search?query=…&orientation=portrait&per_page=…`` with the key itself in
``Authorization`` (no ``Bearer``). Each photo has ``src`` URLs in several sizes:
``large2x`` fits within 1880x1300, ``original`` is the upload. The Pexels licence needs no
attribution, but the API terms ask to credit the photographer and Pexels, so the credit is
kept as required.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from autoclip_core.schemas import Credit
from resources.errors import VisualsError
from resources.visuals.base import SceneCard
from resources.visuals.stock import (
    SearchProtocol,
    StockPhoto,
    StockPhotoVisuals,
    cover_scale,
    fitted,
    search_words,
)

NAME = "pexels"
LICENCE = "Pexels License"
LARGE2X_BOX = (1880, 1300)
LOCALES = {"ko": "ko-KR", "en": "en-US"}


def search_request(base_url: str, api_key: str, card: SceneCard, per_page: int) -> httpx.Request:
    params = {
        "query": search_words(card),
        "orientation": "portrait" if card.height >= card.width else "landscape",
        "per_page": str(per_page),
        "locale": LOCALES[card.language],
    }
    return httpx.Request(
        "GET",
        f"{base_url.rstrip('/')}/v1/search",
        params=params,
        headers={"Authorization": api_key, "Accept": "application/json"},
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
        photos = body["photos"]
        found = []
        for photo in photos:
            url, width, height = photo_source(photo, card)
            credit = Credit(
                provider=NAME,
                licence=LICENCE,
                author=photo.get("photographer"),
                author_url=photo.get("photographer_url"),
                source_url=photo.get("url"),
                required=True,
            )
            found.append(StockPhoto(f"{NAME}:{photo['id']}", url, width, height, credit))
    except (KeyError, TypeError, ValueError) as exc:
        raise VisualsError(f"pexels: unexpected search answer ({exc!r})") from exc
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


class PexelsVisuals(StockPhotoVisuals):
    """Scene photos from Pexels."""

    vendor: ClassVar[str] = NAME
    protocol: ClassVar[SearchProtocol] = SearchProtocol(search_request, parse_search, error_message)
