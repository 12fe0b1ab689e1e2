"""Creatomate as the ``renderer``: the RenderScript the local engine renders, posted to
Creatomate's render API (v2), followed by polling until it finishes, then downloaded.

Layout: the request and response transforms are pure functions (``render_body``,
``parse_render``, ``error_message``); ``CreatomateEngine`` is a ``RenderEngine`` (the
interface ``autoclip_core.render`` defines) that runs one render over HTTP; and
``CreatomateRenderer`` is the Dagster resource that builds it. The engine lives here rather
than in ``autoclip_core.render`` because the core renders locally and speaks no vendor's
HTTP; the resource layer owns keys, origins and retries.

Protocol (Creatomate's API reference): ``POST /v2/renders`` takes the RenderScript at the
top level and answers ONE render ``{id, status, url, error_message?, snapshot_url?, …}``;
``GET /v2/renders/{id}`` answers it again. ``status`` goes planned → waiting (a third-party
integration) / transcribing (subtitles) → rendering → succeeded | failed. A RenderScript
without ``output_format`` renders a jpg, so ``"output_format": "mp4"`` is always sent.

Completion: with a webhook set up (``webhook_url`` and ``webhook_secret``: the public URL of
the API's ``/api/v1/webhooks/creatomate`` route and its secret, see
``autoclip_core.creatomate_webhook``), each render is posted with its own ``webhook_url`` and
``metadata``; the route records Creatomate's report in storage and the waiting step, which
looks there every ``inbox_interval_s``, reads the render once more and goes on. Creatomate is
still polled every ``fallback_poll_s`` in case a report is lost. Without a webhook, the render
is polled every ``poll_interval_s``.

Creatomate fetches every media source itself, so each must be an http(s) URL. A pipeline
render names its media by storage key (a relative source), and the resource's ``storage``
hands out a presigned URL of each when the render is posted (only a store with URLs can:
S3). A script with a local file is refused before anything is paid for.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autoclip_core.creatomate_webhook import callback_key, webhook_address
from autoclip_core.fetch import FetchError, fetch
from autoclip_core.render.engine import (
    SNAPSHOT_CODECS,
    RenderEngine,
    RenderJob,
    RenderStats,
    cut_snapshot,
)
from autoclip_core.render.ffmpeg_binary import FFmpegError, ProgressCallback
from autoclip_core.render.probe import CorruptMediaError, probe
from autoclip_core.render.renderscript import CompositionElement, Element, RenderScript
from resources.errors import RendererError
from resources.renderer.base import RendererResource
from resources.storage.base import StorageResource
from resources.vendors.base import VendorResource
from resources.vendors.cache import AnswerCache
from resources.vendors.http import VendorClient
from resources.vendors.usage import priced, report_cache_hit, report_usage

RENDERS_PATH = "/v2/renders"
MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024
"""The download is held in memory; a 3-minute 1080p Short is well under 300 MB."""
VENDOR = "creatomate"
MODEL = "render"
API_VERSION = "v2"
"""Part of a render's cache key (with the body sent, which holds everything else)."""
PIXELS_PER_CREDIT = 100_000_000
TRANSCRIPTION_CREDITS_PER_MINUTE = 10
AUTOCLIP_ONLY_FIELDS = frozenset({"duck_under", "renderer"})
"""RenderScript properties only AutoClip knows; Creatomate is not sent them."""
FONT_FAMILIES = {"NanumGothic": "Nanum Gothic"}
"""Our fonts' family names (as their files name them) → the Google Fonts family Creatomate
loads by name."""

Status = Literal["planned", "waiting", "transcribing", "rendering", "succeeded", "failed"]
FINISHED: frozenset[str] = frozenset({"succeeded", "failed"})
PROGRESS: dict[str, float] = {
    "planned": 0.02,
    "waiting": 0.05,
    "transcribing": 0.1,
    "rendering": 0.3,
    "succeeded": 0.9,
}
"""How far a render is, by state: Creatomate reports no finer progress; the download is
the last tenth."""


class CreatomateRender(BaseModel):
    """The render object (the fields we read; Creatomate adds more)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    status: Status
    url: str | None = None
    error_message: str | None = None
    snapshot_url: str | None = None
    output_format: str | None = None
    duration: float | None = None
    file_size: int | None = None


# pure transforms -----------------------------------------------------------------------------


def _sources(elements: list[Element]) -> Iterator[str]:
    for element in elements:
        source = getattr(element, "source", None)
        if source is not None:
            yield source
        if isinstance(element, CompositionElement):
            yield from _sources(element.elements)


def _for_creatomate(value: Any) -> Any:
    """``value`` without our own properties, its fonts under Creatomate's names."""
    if isinstance(value, dict):
        out = {k: _for_creatomate(v) for k, v in value.items() if k not in AUTOCLIP_ONLY_FIELDS}
        if "font_family" in out:
            out["font_family"] = FONT_FAMILIES.get(out["font_family"], out["font_family"])
        return out
    if isinstance(value, list):
        return [_for_creatomate(v) for v in value]
    return value


def is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


def is_storage_key(source: str) -> bool:
    """A relative path without a scheme: how a pipeline render names a stored file."""
    path = PurePosixPath(source)
    return not urlsplit(source).scheme and not path.is_absolute() and ".." not in path.parts


def render_body(script: RenderScript, *, storage_keys: bool = False) -> dict[str, Any]:
    """The ``POST /v2/renders`` body: the RenderScript at the top level, always as mp4; with
    ``storage_keys``, relative sources stay as they are, to be given URLs when posted
    (``with_urls``).

    Raises a non-retryable ``RendererError`` for a media source Creatomate cannot fetch.
    """
    local = [
        s
        for s in _sources(script.elements)
        if not is_url(s) and not (storage_keys and is_storage_key(s))
    ]
    if local:
        raise RendererError(
            "Creatomate fetches media itself and needs http(s) URLs, but the script uses "
            f"local files ({', '.join(sorted(set(local))[:3])}), which have no URL: render "
            "locally (AUTOCLIP_RENDERER_PROVIDER=ffmpeg), use URLs, or keep media in storage "
            "that gives URLs (AUTOCLIP_STORAGE_PROVIDER=s3)"
        )
    body = _for_creatomate(script.model_dump(mode="json", exclude_none=True))
    body["output_format"] = "mp4"
    return body


def with_urls(value: Any, media_url: Callable[[str], str]) -> Any:
    """``value`` (a render body) with each storage-key source replaced by its URL."""
    if isinstance(value, dict):
        out = {k: with_urls(v, media_url) for k, v in value.items()}
        source = value.get("source")
        if isinstance(source, str) and not is_url(source) and is_storage_key(source):
            out["source"] = media_url(source)
        return out
    if isinstance(value, list):
        return [with_urls(v, media_url) for v in value]
    return value


def transcribes(elements: list[Element]) -> bool:
    """Whether Creatomate generates subtitles for the script (a ``transcript_source``)."""
    return any(
        getattr(e, "transcript_source", None)
        or (isinstance(e, CompositionElement) and transcribes(e.elements))
        for e in elements
    )


def render_credits(script: RenderScript, duration: float) -> float:
    """What a video render costs in Creatomate credits: one per 100 million output pixels
    (width × height × fps × seconds), at least one; transcription (10 credits a minute)
    is charged only where it costs more than the render."""
    pixels = script.width * script.height * script.frame_rate * duration
    credits = max(1.0, pixels / PIXELS_PER_CREDIT)
    if transcribes(script.elements):
        credits = max(credits, TRANSCRIPTION_CREDITS_PER_MINUTE * duration / 60)
    return round(credits, 4)


def parse_render(data: Any) -> CreatomateRender:
    """One render object (what ``POST /v2/renders`` and ``GET /v2/renders/{id}`` answer)."""
    try:
        return CreatomateRender.model_validate(data)
    except ValidationError as exc:
        raise RendererError(
            f"Creatomate answered something that is not a render: {exc.errors()[0]['msg']}",
            retryable=True,
        ) from None


def error_message(response: httpx.Response) -> str:
    """Creatomate's reason for a failed call (its JSON ``hint``/``message``), after what the
    status means for whoever runs the pipeline."""
    reason = ""
    try:
        data = response.json()
    except ValueError:
        reason = response.text.strip()[:200]
    else:
        if isinstance(data, dict):
            found = data.get("hint") or data.get("message") or data.get("error")
            reason = found if isinstance(found, str) else json.dumps(found)[:200]
    meaning = {
        400: "the render request was refused",
        401: "the API key was refused (check CREATOMATE_API_KEY)",
        402: "the Creatomate project is out of credits",
        429: "rate limited",
    }.get(response.status_code)
    return ": ".join(part for part in (meaning, reason) if part) or response.reason_phrase


# the client ------------------------------------------------------------------------------


class CreatomateClient:
    """``POST /v2/renders`` and ``GET /v2/renders/{id}`` with the project's key; retries and
    the error mapping (400/401/402 at once, 429 after ``Retry-After``, 5xx and timeouts with
    back-off) come from ``VendorClient``."""

    def __init__(self, base_url: str, api_key: str, http: VendorClient) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self.http = http

    def _call(self, request: httpx.Request) -> CreatomateRender:
        return parse_render(
            self.http.send_json(request, error=RendererError, parse_error=error_message)
        )

    def create(self, body: dict[str, Any]) -> CreatomateRender:
        url = self.base_url + RENDERS_PATH
        return self._call(httpx.Request("POST", url, headers=self._headers, json=body))

    def get(self, render_id: str) -> CreatomateRender:
        url = f"{self.base_url}{RENDERS_PATH}/{render_id}"
        return self._call(httpx.Request("GET", url, headers=self._headers))


# the engine ------------------------------------------------------------------------------


@dataclass
class CreatomateEngine(RenderEngine):
    """Renders on Creatomate: post, poll until finished, download through the fetch guard.

    With a ``cache``, the id of each render is kept under the request body, so a retried step
    (a timed-out poll, a failed download, a rotated key) picks up the render already paid
    for instead of posting it again; Creatomate keeps renders for 30 days.
    """

    client: CreatomateClient
    poll_interval_s: float = 3.0
    timeout_s: float = 900.0
    download_timeout_s: float = 300.0
    cache: AnswerCache | None = None
    sleep: Callable[[float], None] = time.sleep
    media_url: Callable[[str], str] | None = None
    """Storage key -> a URL Creatomate can fetch the file from; without it every source must
    be a URL already."""
    webhook: Callable[[str], str] | None = None
    """A render's ``metadata`` -> the address Creatomate reports it to; None: polled."""
    inbox: Callable[[str], bool] | None = None
    """Whether the webhook has recorded a render's completion (by render id)."""
    inbox_interval_s: float = 1.0
    fallback_poll_s: float = 30.0

    def render(self, job: RenderJob, progress: ProgressCallback | None = None) -> RenderStats:
        report = progress or (lambda _fraction: None)
        if job.snapshot is not None and job.snapshot.suffix.lower() not in SNAPSHOT_CODECS:
            raise RendererError(
                f"snapshot must be one of {sorted(SNAPSHOT_CODECS)}: {job.snapshot}"
            )
        body = render_body(job.script, storage_keys=self.media_url is not None)
        started = time.perf_counter()
        render, paid = self._start(body)
        render = self._wait(render, report)
        assert render.url is not None
        # Counted once Creatomate has rendered, paid for whether or not the download works.
        if paid:
            duration = render.duration or job.script.duration or 0.0
            credits = render_credits(job.script, duration)
            report_usage(priced(VENDOR, MODEL, {"credits": credits}))
        else:
            report_cache_hit(VENDOR)
        self._download(render.url, job.out_mp4)
        try:
            info = probe(job.out_mp4)
            if job.snapshot is not None:
                cut_snapshot(job.out_mp4, job.script, info.duration, job.snapshot)
        except (CorruptMediaError, FFmpegError) as exc:
            job.out_mp4.unlink(missing_ok=True)
            raise RendererError(
                f"Creatomate render {render.id} is not a readable video: {exc}", retryable=True
            ) from exc
        report(1.0)
        return RenderStats(
            duration=info.duration,
            render_seconds=time.perf_counter() - started,
            size_bytes=job.out_mp4.stat().st_size,
            command=["creatomate", f"POST {RENDERS_PATH}", render.id],
        )

    def _start(self, body: dict[str, Any]) -> tuple[CreatomateRender, bool]:
        """The render of ``body``: the one posted before if it still exists and has not
        failed (``False``: nothing new to pay), else a new one (``True``)."""
        key = AnswerCache.key(VENDOR, MODEL, API_VERSION, body)
        known = self.cache.get_json(key) if self.cache is not None else None
        if isinstance(known, dict) and isinstance(known.get("id"), str):
            try:
                render = self.client.get(known["id"])
            except RendererError as exc:
                if exc.retryable:
                    raise
            else:
                if render.status != "failed":
                    return render, False
        render = self.client.create(self._posted(body, key))
        if self.cache is not None:
            self.cache.put_json(key, {"id": render.id})
        return render, True

    def _posted(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        """What is posted for ``body``: its stored media at fresh URLs, and the webhook to
        report to. Neither is part of ``key``: a presigned URL changes on every run."""
        posted = with_urls(body, self.media_url) if self.media_url is not None else dict(body)
        if self.webhook is not None:
            metadata = key.rpartition("/")[2]
            posted |= {"webhook_url": self.webhook(metadata), "metadata": metadata}
        return posted

    def _wait(self, render: CreatomateRender, report: Callable[[float], None]) -> CreatomateRender:
        deadline = time.monotonic() + self.timeout_s
        next_poll = time.monotonic() + self.fallback_poll_s
        while render.status not in FINISHED:
            report(PROGRESS[render.status])
            if time.monotonic() > deadline:
                raise RendererError(
                    f"Creatomate render {render.id} still {render.status} after "
                    f"{self.timeout_s:g} s",
                    retryable=True,
                )
            if self.inbox is None:
                self.sleep(self.poll_interval_s)
            else:
                # The webhook's report, else a poll now and then should a report be lost.
                self.sleep(self.inbox_interval_s)
                if not self.inbox(render.id) and time.monotonic() < next_poll:
                    continue
                next_poll = time.monotonic() + self.fallback_poll_s
            render = self.client.get(render.id)
        if render.status == "failed":
            raise RendererError(
                f"Creatomate render {render.id} failed: {render.error_message or 'no reason given'}"
            )
        if not render.url:
            raise RendererError(f"Creatomate render {render.id} succeeded without a URL")
        report(PROGRESS["succeeded"])
        return render

    def _download(self, url: str, out_mp4: Path) -> None:
        try:
            result = fetch(url, max_bytes=MAX_DOWNLOAD_BYTES, timeout_s=self.download_timeout_s)
        except FetchError as exc:
            raise RendererError(
                f"downloading the Creatomate render failed: {exc.reason}",
                retryable=exc.retryable,
                retry_after=exc.retry_after,
            ) from exc
        out_mp4.parent.mkdir(parents=True, exist_ok=True)
        out_mp4.write_bytes(result.body)


# the resource ------------------------------------------------------------------------------


class CreatomateRenderer(RendererResource, VendorResource):
    """Renders on Creatomate's servers (``AUTOCLIP_RENDERER_PROVIDER=creatomate``, or a
    template's ``"renderer": "creatomate"``)."""

    vendor: ClassVar[str] = VENDOR
    provider_name: ClassVar[str] = VENDOR
    poll_interval_s: float = Field(default=3.0, gt=0, description="Seconds between polls.")
    render_timeout_s: float = Field(
        default=900.0, gt=0, description="Longest wait for one render to finish."
    )
    storage: StorageResource | None = Field(
        default=None,
        description="Where the pipeline's media is: relative sources are its keys, posted as "
        "presigned URLs of it.",
    )
    media_url_seconds: int = Field(
        default=24 * 3600, gt=0, description="How long Creatomate may fetch a stored file."
    )
    webhook_url: str | None = Field(
        default=None, description="Public URL of the API's /api/v1/webhooks/creatomate route."
    )
    webhook_secret: str | None = Field(default=None, repr=False)
    inbox_interval_s: float = Field(
        default=1.0, gt=0, description="Seconds between looks for the webhook's report."
    )
    fallback_poll_s: float = Field(
        default=30.0, gt=0, description="With a webhook: seconds between polls all the same."
    )

    def engine(self) -> CreatomateEngine:
        client = CreatomateClient(self.base_url, self.api_key, self.vendor_client())
        hooked = bool(self.webhook_url and self.webhook_secret and self.storage is not None)
        return CreatomateEngine(
            client,
            poll_interval_s=self.poll_interval_s,
            timeout_s=self.render_timeout_s,
            cache=self.answer_cache(),
            media_url=self.media_url if self.storage is not None else None,
            webhook=self.webhook_address if hooked else None,
            inbox=self.reported if hooked else None,
            inbox_interval_s=self.inbox_interval_s,
            fallback_poll_s=self.fallback_poll_s,
        )

    def media_url(self, key: str) -> str:
        assert self.storage is not None
        return self.storage.presigned_url(key, self.media_url_seconds)

    def webhook_address(self, metadata: str) -> str:
        assert self.webhook_url is not None
        assert self.webhook_secret is not None
        return webhook_address(self.webhook_url, self.webhook_secret, metadata)

    def reported(self, render_id: str) -> bool:
        """Whether the webhook has recorded the render's completion in storage."""
        assert self.storage is not None
        return self.storage.exists(callback_key(render_id))
