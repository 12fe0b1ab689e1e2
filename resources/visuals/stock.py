"""What the picture vendors share: a scene's search words, choosing a photo or video clip this
video does not show yet, downloading it through the fetch guard, checking it, and framing it.

A vendor's picture is treated like a photo from the user's library: cover-cropped to the
card's size, darkened at the top and given the card's headline, so every provider's scenes
look alike in the template. A clip is kept as the vendor made it (the renderer crops and
trims it to the scene); the veil and headline go into a transparent overlay laid over it.

``media`` chooses what a scene card asks for: ``photo`` (stills only), ``video`` (a clip for
every card that says how long it is on screen, else the vendor has failed for the scene) or
``auto`` (a clip when one fits, else a photo from the same vendor). Title and end cards
always take photos.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, TypeVar

import av
import dagster as dg
import httpx
from PIL import Image, ImageOps
from pydantic import Field

from autoclip_core.fetch import FetchError, fetch
from autoclip_core.render.probe import CorruptMediaError, MediaProbe, probe
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
    headline_overlay,
    save_image,
)

log = dg.get_dagster_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")
StockMedia = Literal["photo", "video", "auto"]

# A picture is big enough when covering the frame enlarges it at most this much.
MAX_UPSCALE = 2.0
MIN_SIDE = 320
MAX_IMAGE_BYTES = 40 * 1024 * 1024
MAX_VIDEO_BYTES = 200 * 1024 * 1024
"""A download is held in memory; a vendor's Full HD file of a minute stays well under it."""
CLIP_TOLERANCE_S = 0.5
"""How much shorter than the scene a clip may probe: vendors state whole seconds, and the
renderer loops a clip that ends early."""
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


@dataclass(frozen=True)
class StockClip:
    source_id: str
    """Vendor-prefixed (``pexels-video:123``): never the id of one of its photos."""
    video_url: str
    width: int
    """Of the file at ``video_url``, as the vendor describes it."""
    height: int
    duration: float
    credit: Credit


@dataclass(frozen=True)
class Rendition:
    """One of the files a vendor offers for a video, at its size."""

    url: str
    width: int
    height: int


class Sourced(Protocol):
    @property
    def source_id(self) -> str: ...


S = TypeVar("S", bound=Sourced)


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


def clip_candidates(clips: Iterable[StockClip], card: SceneCard) -> list[StockClip]:
    """Clips not yet in the video, at least as long as the scene and big enough by their stated
    size, portrait ones first."""
    avoid, needed = set(card.avoid), card.clip_seconds or 0.0
    fresh = [
        c
        for c in clips
        if c.source_id not in avoid and c.duration >= needed and big_enough(c.width, c.height, card)
    ]
    return sorted(fresh, key=lambda c: c.height < c.width)


def rendition(files: Iterable[Rendition], card: SceneCard) -> Rendition | None:
    """The smallest of a video's files that covers the card without enlarging it, else the
    largest that is big enough; None when none is."""
    usable = [f for f in files if f.url and big_enough(f.width, f.height, card)]
    covering = [f for f in usable if cover_scale(f.width, f.height, card) <= 1.0]
    if covering:
        return min(covering, key=lambda f: f.width * f.height)
    return max(usable, key=lambda f: f.width * f.height, default=None)


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


def decodes(path: Path) -> None:
    """Whether the first video frame decodes (a probe only demuxes)."""
    try:
        with av.open(str(path)) as container:
            next(container.decode(video=0))
    except (av.FFmpegError, StopIteration) as exc:
        raise CorruptMediaError(f"{path.name}: no video frame decodes ({exc!r})") from exc


def check_clip(path: Path, card: SceneCard, what: str) -> MediaProbe:
    """The clip's facts, if it is a whole video whose frames decode, big enough for the card
    and about as long as the scene."""
    try:
        info = probe(path)
        if info.video is None:
            raise VisualsError(f"{what} has no video stream")
        decodes(path)
    except CorruptMediaError as exc:
        raise VisualsError(f"{what} is not a readable video: {exc}") from exc
    width, height = info.video.width, info.video.height
    if not big_enough(width, height, card):
        raise VisualsError(f"{what} is {width}x{height}, too small for {card.width}x{card.height}")
    needed = card.clip_seconds or 0.0
    if info.duration < needed - CLIP_TOLERANCE_S:
        raise VisualsError(f"{what} lasts {info.duration:.1f} s, the scene {needed:g} s")
    return info


def download(url: str, *, timeout_s: float, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
    """A file's bytes through the guarded fetcher (vendors' media hosts are outside URLs)."""
    try:
        return fetch(url, max_bytes=max_bytes, timeout_s=timeout_s).body
    except FetchError as exc:
        raise VisualsError(
            f"download failed: {exc}", retryable=exc.retryable, retry_after=exc.retry_after
        ) from exc


def first_passing(
    found: list[S], attempt: Callable[[S], R], card: SceneCard, noun: str, wanted: str
) -> tuple[S, R]:
    """The first of the candidates ``found`` whose ``attempt`` (download and checks) passes; a
    failed one hands over to the next. Fails retryably when a download did, so the vendor may
    be asked again later."""
    failures: list[VisualsError] = []
    for item in found[:MAX_TRIES]:
        try:
            return item, attempt(item)
        except VisualsError as exc:
            log.warning(f"skipping {item.source_id}: {exc}")
            failures.append(exc)
    if not failures:
        raise VisualsError(f"no unused {noun} {wanted} for '{search_words(card)}'")
    raise VisualsError(
        f"no usable {noun} for '{search_words(card)}': {failures[-1]}",
        retryable=any(f.retryable for f in failures),
    )


def first_usable(
    photos: Iterable[StockPhoto], card: SceneCard, get_bytes: Callable[[str], bytes]
) -> tuple[StockPhoto, Image.Image]:
    """The first candidate picture that downloads, decodes and is big enough."""
    return first_passing(
        candidates(photos, card),
        lambda photo: decode_checked(get_bytes(photo.image_url), card, photo.source_id),
        card,
        "picture",
        "big enough",
    )


def write_scene(image: Image.Image, card: SceneCard, out_path: Path) -> None:
    """The picture cover-cropped to the card, with the card's text over it, at ``out_path``."""
    framed = ImageOps.fit(image, (card.width, card.height), Image.Resampling.LANCZOS)
    write_image(draw_text_overlay(darken_top(framed), card), out_path)


def write_image(image: Image.Image, out_path: Path) -> None:
    try:
        save_image(image, out_path)
    except OSError as exc:
        raise VisualsError(f"could not write the scene image {out_path.name}: {exc}") from exc


SearchRequest = Callable[[str, str, SceneCard, int], httpx.Request]
"""(base URL, key, card, results per page) -> the search request."""


@dataclass(frozen=True)
class SearchProtocol:
    """A search vendor's request and response transforms (pure functions)."""

    search_request: SearchRequest
    parse_search: Callable[[Any, SceneCard], list[StockPhoto]]
    """The vendor's pictures in its answer, best first."""
    error_message: Callable[[httpx.Response], str]
    """The vendor's own words in an error answer."""
    video_search_request: SearchRequest
    parse_video_search: Callable[[Any, SceneCard], list[StockClip]]
    """The vendor's clips in its answer, best first, each at the file that suits the card."""


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


class StockVisuals(VendorVisuals):
    """A photo and video search vendor: search the scene's words, use the first fresh picture
    or clip that fits.

    Searches and downloads are cached (Pixabay's terms ask for a day's caching anyway), so a
    rerun or a new template asks the vendor nothing it was asked before.
    """

    per_page: int = 15
    media: StockMedia = Field(
        default="photo",
        description="photo: stills only; video: a clip per scene; auto: a clip, else a photo.",
    )
    protocol: ClassVar[SearchProtocol]

    def fingerprint_inputs(self) -> str:
        identity = f"{self.vendor}:per_page={self.per_page}:overlay={self.overlay_identity()}"
        return identity if self.media == "photo" else f"{identity}:media={self.media}"

    def searched(self, request: httpx.Request, kind: str) -> Any:
        """The vendor's answer to a search (``kind``: what it searched), cached."""
        params = {k: v for k, v in request.url.params.items() if v != self.api_key}
        key = AnswerCache.key(self.vendor, kind, SEARCH_VERSION, params)

        def ask() -> Any:
            with self.client() as client:
                body = client.send_json(
                    request, error=VisualsError, parse_error=self.protocol.error_message
                )
            report_usage(priced(self.vendor, kind, {"requests": 1}))
            return body

        return self.cached_json(key, ask)

    def search(self, card: SceneCard) -> list[StockPhoto]:
        request = self.protocol.search_request(self.base_url, self.api_key, card, self.per_page)
        return self.protocol.parse_search(self.searched(request, "search"), card)

    def search_clips(self, card: SceneCard) -> list[StockClip]:
        protocol = self.protocol
        request = protocol.video_search_request(self.base_url, self.api_key, card, self.per_page)
        return protocol.parse_video_search(self.searched(request, "video-search"), card)

    def media_bytes(self, kind: str, url: str, max_bytes: int) -> bytes:
        key = AnswerCache.key(self.vendor, kind, SEARCH_VERSION, url)
        return self.cached_bytes(
            key, lambda: download(url, timeout_s=self.timeout_s, max_bytes=max_bytes)
        )

    def image_bytes(self, url: str) -> bytes:
        return self.media_bytes("image", url, MAX_IMAGE_BYTES)

    def scene_image(self, card: SceneCard, out_path: Path) -> VisualResult:
        photo, image = first_usable(self.search(card), card, self.image_bytes)
        write_scene(image, card, out_path)
        return VisualResult(origin="stock", source_id=photo.source_id, credit=photo.credit)

    def scene_visual(self, card: SceneCard, image_path: Path, clip_path: Path) -> VisualResult:
        if self.media == "photo" or card.clip_seconds is None:
            return self.scene_image(card, image_path)
        try:
            return self.scene_clip(card, image_path, clip_path)
        except VisualsError as exc:
            if self.media == "video":
                raise
            log.info(f"{self.vendor}: no clip for scene {card.index} ({exc}); a photo instead")
        return self.scene_image(card, image_path)

    def scene_clip(self, card: SceneCard, image_path: Path, clip_path: Path) -> VisualResult:
        """A fresh clip at ``clip_path`` and the card's overlay for it at ``image_path``."""
        clip, _ = first_passing(
            clip_candidates(self.search_clips(card), card),
            lambda c: self.fetch_clip(c, card, clip_path),
            card,
            "clip",
            f"of {card.clip_seconds:g} s or more",
        )
        write_image(headline_overlay(card), image_path)
        return VisualResult(origin="stock", source_id=clip.source_id, credit=clip.credit, clip=True)

    def fetch_clip(self, clip: StockClip, card: SceneCard, clip_path: Path) -> MediaProbe:
        """``clip`` downloaded to ``clip_path`` and checked (removed again if it fails)."""
        data = self.media_bytes("video", clip.video_url, MAX_VIDEO_BYTES)
        clip_path.parent.mkdir(parents=True, exist_ok=True)
        clip_path.write_bytes(data)
        try:
            return check_clip(clip_path, card, clip.source_id)
        except VisualsError:
            clip_path.unlink(missing_ok=True)
            raise
