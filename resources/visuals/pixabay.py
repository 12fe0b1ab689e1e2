"""Pixabay image search (https://pixabay.com/api/docs/).

``GET /api/?key=…&q=…&image_type=photo&orientation=vertical`` — the key is a query
parameter. ``hits[].largeImageURL`` is the picture scaled to at most 1280 px on its long
side; ``imageWidth``/``imageHeight`` are the upload's. Errors are plain text
(``[ERROR 400] …``). The Content License needs no attribution, but the API terms ask to
show where the pictures come from, so the credit is kept as required.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from autoclip_core.schemas import Credit
from resources.errors import VisualsError
from resources.vendors.http import error_text
from resources.visuals.base import SceneCard
from resources.visuals.stock import (
    SearchProtocol,
    StockPhoto,
    StockPhotoVisuals,
    fitted,
    search_words,
)

NAME = "pixabay"
LICENCE = "Pixabay Content License"
LARGE_BOX = (1280, 1280)
# The API takes 3 to 200 results per page.
PER_PAGE_RANGE = (3, 200)


def search_request(base_url: str, api_key: str, card: SceneCard, per_page: int) -> httpx.Request:
    params = {
        "key": api_key,
        "q": search_words(card),
        "lang": card.language,
        "image_type": "photo",
        "orientation": "vertical" if card.height >= card.width else "horizontal",
        "safesearch": "true",
        "per_page": str(min(max(per_page, PER_PAGE_RANGE[0]), PER_PAGE_RANGE[1])),
    }
    return httpx.Request(
        "GET", f"{base_url.rstrip('/')}/api/", params=params, headers={"Accept": "application/json"}
    )


def parse_search(body: dict[str, Any], card: SceneCard) -> list[StockPhoto]:
    """The hits, each at its ``largeImageURL`` size (the card does not change which)."""
    try:
        found = []
        for hit in body["hits"]:
            width, height = fitted(int(hit["imageWidth"]), int(hit["imageHeight"]), LARGE_BOX)
            credit = Credit(
                provider=NAME,
                licence=LICENCE,
                author=hit.get("user"),
                author_url=None,
                source_url=hit.get("pageURL"),
                required=True,
            )
            found.append(
                StockPhoto(f"{NAME}:{hit['id']}", hit["largeImageURL"], width, height, credit)
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise VisualsError(f"pixabay: unexpected search answer ({exc!r})") from exc
    return found


class PixabayVisuals(StockPhotoVisuals):
    """Scene photos from Pixabay."""

    vendor: ClassVar[str] = NAME
    protocol: ClassVar[SearchProtocol] = SearchProtocol(search_request, parse_search, error_text)
