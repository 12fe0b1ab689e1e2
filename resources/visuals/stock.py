"""What the picture vendors share: a scene's search words, choosing a picture this video does
not show yet, downloading it through the fetch guard, checking it, and framing it.

A vendor's picture is treated like a photo from the user's library: cover-cropped to the
card's size, darkened at the top and given the card's headline, so every provider's scenes
look alike in the template.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import dagster as dg
import httpx
from PIL import Image, ImageOps

from autoclip_core.fetch import FetchError, fetch
from autoclip_core.schemas import Credit
from resources.errors import VisualsError
from resources.vendors.base import VendorResource
from resources.vendors.cache import AnswerCache
from resources.vendors.http import VendorClient
from resources.vendors.usage import priced, report_cache_hit, report_usage
from resources.visuals.base import SceneCard, VisualResult, VisualsResource
from resources.visuals.local import (
    LocalVisuals,
    darken_top,
    draw_text_overlay,
    flatten_to_rgb,
    save_image,
)

log = dg.get_dagster_logger(__name__)

T = TypeVar("T")

# A picture is big enough when covering the frame enlarges it at most this much.
MAX_UPSCALE = 2.0
MIN_SIDE = 320
MAX_IMAGE_BYTES = 40 * 1024 * 1024
MAX_QUERY_WORDS = 6
MAX_QUERY_CHARS = 100
# Bump when what a search or download is cached under changes meaning.
SEARCH_VERSION = "1"
# How many of a search's pictures are downloaded before the scene gives up on the vendor.
MAX_TRIES = 4
QUERY_STOPWORDS = frozenset({"a", "an", "the", "and", "or", "for", "with", "from", "of", "to"})
WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


@dataclass(frozen=True)
class StockPhoto:
    source_id: str
    """Vendor-prefixed (``pexels:123``), so two vendors' ids never collide."""
    image_url: str
    width: int
    """Of the picture at ``image_url``, as the vendor describes it."""
    height: int
    credit: Credit


def search_words(card: SceneCard) -> str:
    """The scene's keywords (else its query) as a short search: no hashtag signs, no repeats."""
    words: list[str] = []
    for text in card.keywords or [card.query]:
        for word in WORD.findall(text):
            if word.casefold() not in QUERY_STOPWORDS and word.casefold() not in map(
                str.casefold, words
            ):
                words.append(word)
    if not words:
        words = WORD.findall(card.title)
    query = " ".join(words[:MAX_QUERY_WORDS])
    return query[:MAX_QUERY_CHARS].rsplit(" ", 1)[0] if len(query) > MAX_QUERY_CHARS else query


def cover_scale(width: int, height: int, card: SceneCard) -> float:
    """How much a ``width`` x ``height`` picture is enlarged to cover the card (<1 shrinks)."""
    if width <= 0 or height <= 0:
        return float("inf")
    return max(card.width / width, card.height / height)


def fitted(width: int, height: int, box: tuple[int, int]) -> tuple[int, int]:
    """The size of a picture shrunk (never enlarged) to fit within ``box``."""
    scale = min(1.0, box[0] / width, box[1] / height)
    return round(width * scale), round(height * scale)


def big_enough(width: int, height: int, card: SceneCard) -> bool:
    return min(width, height) >= MIN_SIDE and cover_scale(width, height, card) <= MAX_UPSCALE


def candidates(photos: Iterable[StockPhoto], card: SceneCard) -> list[StockPhoto]:
    """Pictures not yet in the video and big enough by their stated size, portrait ones first."""
    avoid = set(card.avoid)
    fresh = [p for p in photos if p.source_id not in avoid and big_enough(p.width, p.height, card)]
    return sorted(fresh, key=lambda p: p.height < p.width)


def decode_checked(data: bytes, card: SceneCard, what: str) -> Image.Image:
    """The picture, upright and RGB, if it decodes completely and is big enough for the card."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = flatten_to_rgb(ImageOps.exif_transpose(image))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise VisualsError(f"{what} is not a readable image: {exc}") from exc
    if not big_enough(*upright.size, card):
        width, height = upright.size
        raise VisualsError(f"{what} is {width}x{height}, too small for {card.width}x{card.height}")
    return upright


def download(url: str, *, timeout_s: float) -> bytes:
    """A picture's bytes through the guarded fetcher (vendors' image hosts are outside URLs)."""
    try:
        return fetch(url, max_bytes=MAX_IMAGE_BYTES, timeout_s=timeout_s).body
    except FetchError as exc:
        raise VisualsError(
            f"download failed: {exc}", retryable=exc.retryable, retry_after=exc.retry_after
        ) from exc


def first_usable(
    photos: Iterable[StockPhoto], card: SceneCard, get_bytes: Callable[[str], bytes]
) -> tuple[StockPhoto, Image.Image]:
    """The first candidate that downloads and passes the checks; a failed one hands over to
    the next. Fails retryably when a download did, so the vendor may be asked again later."""
    failures: list[VisualsError] = []
    for photo in candidates(photos, card)[:MAX_TRIES]:
        try:
            return photo, decode_checked(get_bytes(photo.image_url), card, photo.source_id)
        except VisualsError as exc:
            log.warning(f"skipping {photo.source_id}: {exc}")
            failures.append(exc)
    if not failures:
        raise VisualsError(f"no unused picture big enough for '{search_words(card)}'")
    raise VisualsError(
        f"no usable picture for '{search_words(card)}': {failures[-1]}",
        retryable=any(f.retryable for f in failures),
    )


def write_scene(image: Image.Image, card: SceneCard, out_path: Path) -> None:
    """The picture cover-cropped to the card, with the card's text over it, at ``out_path``."""
    framed = ImageOps.fit(image, (card.width, card.height), Image.Resampling.LANCZOS)
    try:
        save_image(draw_text_overlay(darken_top(framed), card), out_path)
    except OSError as exc:
        raise VisualsError(f"could not write the scene image {out_path.name}: {exc}") from exc


@dataclass(frozen=True)
class SearchProtocol:
    """A search vendor's request and response transforms (pure functions)."""

    search_request: Callable[[str, str, SceneCard, int], httpx.Request]
    """(base URL, key, card, results per page) -> the search request."""
    parse_search: Callable[[Any, SceneCard], list[StockPhoto]]
    """The vendor's pictures in its answer, best first."""
    error_message: Callable[[httpx.Response], str]
    """The vendor's own words in an error answer."""


class VendorVisuals(VisualsResource, VendorResource):
    """A picture vendor: its answers cached, its calls counted, the overlay drawn as local's."""

    retry_sleep: ClassVar[Callable[[float], None] | None] = None
    """Replaces the back-off's sleep (tests)."""

    def client(self) -> VendorClient:
        return self.vendor_client(sleep=type(self).retry_sleep)

    def overlay_identity(self) -> str:
        """The look of the text drawn over the picture: the local cards' style and font."""
        return LocalVisuals().fingerprint_inputs()

    def cached_json(self, key: str, call: Callable[[], Any]) -> Any:
        cache = self.answer_cache()
        return self.cached(lambda: cache.get_json(key), lambda v: cache.put_json(key, v), call)

    def cached_bytes(self, key: str, call: Callable[[], bytes]) -> bytes:
        cache = self.answer_cache()
        return self.cached(lambda: cache.get_bytes(key), lambda v: cache.put_bytes(key, v), call)

    def cached(
        self, get: Callable[[], T | None], put: Callable[[T], None], call: Callable[[], T]
    ) -> T:
        """The stored answer, or ``call()``'s, stored for next time."""
        if (hit := get()) is not None:
            report_cache_hit(self.vendor)
            return hit
        answer = call()
        put(answer)
        return answer


class StockPhotoVisuals(VendorVisuals):
    """A photo search vendor: search the scene's words, use the first fresh picture that fits.

    Searches and downloads are cached (Pixabay's terms ask for a day's caching anyway), so a
    rerun or a new template asks the vendor nothing it was asked before.
    """

    per_page: int = 15
    protocol: ClassVar[SearchProtocol]

    def fingerprint_inputs(self) -> str:
        return f"{self.vendor}:per_page={self.per_page}:overlay={self.overlay_identity()}"

    def search(self, card: SceneCard) -> list[StockPhoto]:
        request = self.protocol.search_request(self.base_url, self.api_key, card, self.per_page)
        params = {k: v for k, v in request.url.params.items() if v != self.api_key}
        key = AnswerCache.key(self.vendor, "search", SEARCH_VERSION, params)

        def ask() -> Any:
            with self.client() as client:
                body = client.send_json(
                    request, error=VisualsError, parse_error=self.protocol.error_message
                )
            report_usage(priced(self.vendor, "search", {"requests": 1}))
            return body

        return self.protocol.parse_search(self.cached_json(key, ask), card)

    def image_bytes(self, url: str) -> bytes:
        key = AnswerCache.key(self.vendor, "image", SEARCH_VERSION, url)
        return self.cached_bytes(key, lambda: download(url, timeout_s=self.timeout_s))

    def scene_image(self, card: SceneCard, out_path: Path) -> VisualResult:
        photo, image = first_usable(self.search(card), card, self.image_bytes)
        write_scene(image, card, out_path)
        return VisualResult(origin="stock", source_id=photo.source_id, credit=photo.credit)
