"""What a source is — one ``SourceSpec`` per kind — and the sources file that declares them.

A ``SourceSpec`` is the one shape of a source wherever it is declared: an entry of the
sources file, a row of the ``sources`` table (``autoclip_core.db.sources``) and the body of
``POST /api/v1/projects/{id}/sources``. The discriminator is ``kind``; every source has a
``name`` (in the sources file it is also the source's key within its project, so it must be
unique there) and ``enabled``; polled kinds have a ``poll_interval`` (seconds, or
``"15m"``-style durations). Sources created through the API may not reach this server's
files or secrets (:func:`check_remote`).

The sources file is named by ``AUTOCLIP_SOURCES_FILE`` (JSON, or YAML for any other suffix)
and read when the Dagster definitions load. It defines its projects and their sources
(mirrored into the app database's ``projects`` and ``sources`` tables on every sensor tick,
see ``catalog``); projects and sources created through the API live in the database only.
``AUTOCLIP_FEEDS`` is shorthand for RSS sources of the default project
(``with_legacy_feeds``).

Example (YAML)::

    projects:
      - slug: news-ko
        timezone: Asia/Seoul
        auto_generate: false          # new items wait for the daily batch
        review_required: true
        template_id: short
        channels: [local]
        blocked_terms: [도박]
        daily_batch: {time: "09:00", count: 3}   # in the project's time zone
        topic_weights: {경제: 1.0, 스포츠: 0.3}
        sources:
          - {name: yonhap, kind: rss, url: "https://example.kr/rss.xml", poll_interval: 15m}
          - {name: channel, kind: youtube, channel_id: UCxxxxxxxxxxxxxxxxxxxxxx,
             api_key_env: YOUTUBE_API_KEY}
          - name: wire
            kind: json_api
            url: https://api.example.com/v1/articles
            auth: {header: Authorization, secret_env: WIRE_TOKEN, prefix: "Bearer "}
            mapping: {items: data.articles, id: id, title: headline, text: body,
                      url: links.web, published: published_at, media: "images[].url"}
          - {name: inbox, kind: drop_folder, path: /srv/autoclip/inbox}
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from autoclip_core.schemas import TemplateName

MAX_CONFIG_BYTES = 1024 * 1024
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PROJECT_SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
SINGLE_LINE = r"^[^\x00-\x1f\x7f]*$"
HTTP_URL = re.compile(r"^https?://[^\s/?#\x00-\x1f\x7f]+[^\s\x00-\x1f\x7f]*$")
MIN_POLL_INTERVAL_S = 60.0
"""Remote sources: a politeness floor (the sensor ticks every 30 s anyway)."""
MIN_LOCAL_POLL_INTERVAL_S = 10.0
MAX_POLL_INTERVAL_S = 7 * 86400.0

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=SINGLE_LINE),
]
Location = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2048, pattern=SINGLE_LINE),
]
"""An http(s) URL, or (sources file only) a local file path."""
LanguageCode = Annotated[
    str, StringConstraints(max_length=16, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
]
JsonPath = Annotated[str, StringConstraints(max_length=200, pattern=r"^[A-Za-z0-9_.\[\]-]*$")]


class SourcesConfigError(ValueError):
    """The sources file is missing, unreadable or invalid; the message says where."""


def parse_duration(value: Any) -> float:
    """Seconds from ``90``, ``"90s"``, ``"15m"``, ``"2h"`` or ``"1d"``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90, '90s', '15m', '2h')")
    return float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthHeader(_Model):
    """A header whose value is a secret read from an environment variable at fetch time."""

    header: str = Field(default="Authorization", pattern=r"^[A-Za-z0-9-]{1,64}$")
    secret_env: str = Field(pattern=ENV_NAME)
    prefix: str = Field(default="", max_length=32)


# the kinds ----------------------------------------------------------------------------------


class _Source(_Model):
    name: Name
    enabled: bool = True


class _PolledSource(_Source):
    poll_interval: float = Field(default=900.0, description="Seconds between polls.")

    @field_validator("poll_interval", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        seconds = parse_duration(value)
        floor = MIN_LOCAL_POLL_INTERVAL_S if cls is DropFolderSource else MIN_POLL_INTERVAL_S
        if not floor <= seconds <= MAX_POLL_INTERVAL_S:
            raise ValueError(
                f"poll_interval must be within {floor:g} seconds and "
                f"{MAX_POLL_INTERVAL_S / 86400:g} days"
            )
        return seconds


class RssSource(_PolledSource):
    """An RSS 2.0/1.0 or Atom feed (feedparser reads both), polled with conditional GETs."""

    kind: Literal["rss", "atom"] = "rss"
    url: Location
    full_text: Literal["auto", "always", "never"] = Field(
        default="auto", description="Fetch the linked article: for teasers only, always, never."
    )
    auth: AuthHeader | None = None


class YoutubeSource(_PolledSource):
    """A YouTube channel's new videos, with their transcripts as text."""

    kind: Literal["youtube"] = "youtube"
    channel_id: str = Field(pattern=r"^UC[A-Za-z0-9_-]{22}$")
    api_key_env: str | None = Field(
        default=None,
        pattern=ENV_NAME,
        description="Env var holding a Data API v3 key; when set (and present) the API is used "
        "instead of the channel's Atom feed.",
    )
    api_method: Literal["playlist_items", "search"] = Field(
        default="playlist_items",
        description="playlistItems on the uploads playlist (1 quota unit) or search (100).",
    )
    transcripts: bool = True
    transcript_languages: list[LanguageCode] = Field(
        default_factory=lambda: ["ko", "en"], max_length=5
    )


class JsonMapping(_Model):
    """Where things are in a JSON API's response: dotted paths, ``[]`` maps over a list."""

    items: JsonPath = Field(default="", description="Path of the list of items ('' = the root).")
    id: JsonPath = "id"
    title: JsonPath = "title"
    text: JsonPath = "text"
    url: JsonPath = "url"
    published: JsonPath | None = "published_at"
    author: JsonPath | None = None
    media: JsonPath | None = None
    language: JsonPath | None = None
    next_page: JsonPath | None = Field(default=None, description="Path of the next page's URL.")


class JsonApiSource(_PolledSource):
    """A JSON API, its items found through ``mapping``; follows ``next_page`` links."""

    kind: Literal["json_api"] = "json_api"
    url: Location
    mapping: JsonMapping = Field(default_factory=JsonMapping)
    auth: AuthHeader | None = None
    max_pages: int = Field(default=3, ge=1, le=10)


class DropFolderSource(_PolledSource):
    """JSON files dropped into a folder of this server (sources file only)."""

    kind: Literal["drop_folder"] = "drop_folder"
    path: Path
    poll_interval: float = 30.0
    mapping: JsonMapping = Field(default_factory=JsonMapping)


class WebhookSource(_Source):
    """Items pushed to ``POST .../sources/{source_id}/items``, signed with the source's secret
    (created through the API only: the secret is derived from the row)."""

    kind: Literal["webhook"] = "webhook"


PolledSource = RssSource | YoutubeSource | JsonApiSource | DropFolderSource
SourceSpec = Annotated[PolledSource | WebhookSource, Field(discriminator="kind")]
POLLED_KINDS = ("rss", "atom", "youtube", "json_api", "drop_folder")


def check_remote(spec: PolledSource | WebhookSource) -> PolledSource | WebhookSource:
    """A source created through the API: it may not reach this server's files (a local path,
    a drop folder) or its secrets (environment variables by name). ValueError otherwise."""
    if isinstance(spec, DropFolderSource):
        raise ValueError("drop_folder sources are defined in the sources file only")
    if getattr(spec, "auth", None) is not None or getattr(spec, "api_key_env", None):
        raise ValueError("secrets named by the server's environment are for the sources file")
    url = getattr(spec, "url", None)
    if url is not None and not HTTP_URL.match(url):
        raise ValueError("url must be an http(s) URL with a host")
    return spec


# project settings ---------------------------------------------------------------------------
# One set of types for a project's settings, whether the sources file or the API sets them
# (both are stored on the project's row, ``autoclip_core.db.projects``).


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_timezone(value: str) -> str:
    if value not in _timezones():
        raise ValueError(f"unknown IANA time zone {value!r} (e.g. 'Asia/Seoul', 'UTC')")
    return value


def _weights_in_range(value: dict[str, float]) -> dict[str, float]:
    for term, weight in value.items():
        if not 0 <= weight <= 1:
            raise ValueError(f"topic weight of {term!r} must be within 0..1")
    return value


Timezone = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+./-]+$"),
    AfterValidator(_known_timezone),
    # The zones this server knows, listed in the schema (read when the schema is made).
    Field(json_schema_extra=lambda schema: schema.update(enum=sorted(_timezones()))),
]
ChannelName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Term = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=SINGLE_LINE),
]
Channels = Annotated[list[ChannelName], Field(min_length=1, max_length=10)]
BlockedTerms = Annotated[list[Term], Field(max_length=200)]
TopicWeights = Annotated[
    dict[Term, float], Field(max_length=100), AfterValidator(_weights_in_range)
]


class DailyBatch(_Model):
    """Each day at ``time`` (in ``timezone``; none: the project's) the top ``count`` drafts
    of the last ``lookback_hours`` are generated (``schedules.daily_batch``)."""

    time: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM")
    count: int = Field(default=3, ge=1, le=50)
    timezone: Timezone | None = Field(default=None, description="IANA zone; none: the project's.")
    lookback_hours: float = Field(default=24.0, gt=0, le=24 * 14)


class ProjectConfig(_Model):
    slug: str = Field(pattern=PROJECT_SLUG)
    name: str | None = None
    timezone: Timezone = "UTC"
    auto_generate: bool = Field(
        default=False, description="Request a content run for every new item at once."
    )
    review_required: bool = False
    template_id: TemplateName = "short"
    channels: Channels = Field(default_factory=lambda: ["local"])
    blocked_terms: BlockedTerms = Field(default_factory=list)
    daily_batch: DailyBatch | None = None
    topic_weights: TopicWeights = Field(default_factory=dict)
    sources: list[SourceSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _polled_sources_with_unique_names(self) -> ProjectConfig:
        if any(isinstance(s, WebhookSource) for s in self.sources):
            raise ValueError("webhook sources are created through the API")
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate source names in project {self.slug!r}: {dupes}")
        return self

    @property
    def polled_sources(self) -> list[PolledSource]:
        return [s for s in self.sources if not isinstance(s, WebhookSource)]


class Limits(_Model):
    max_feed_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_article_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    fetch_timeout_s: float = Field(default=20.0, gt=0, le=300)
    tick_budget_s: float = Field(
        default=40.0, gt=0, le=600, description="Wall time one sensor tick may spend polling."
    )
    max_workers: int = Field(default=8, ge=1, le=64)
    per_host_concurrency: int = Field(default=2, ge=1, le=16)
    max_enrich_per_source: int = Field(
        default=10, ge=0, description="Articles/transcripts fetched per source per tick."
    )
    max_backoff_s: float = Field(default=6 * 3600.0, gt=0)
    max_drop_file_bytes: int = Field(default=1024 * 1024, ge=1024)


class YoutubeEndpoints(_Model):
    """Base URLs of YouTube's public endpoints (tests point them at a local fake)."""

    feed_base_url: str = "https://www.youtube.com"
    api_base_url: str = "https://www.googleapis.com"
    watch_base_url: str = "https://www.youtube.com"


class DedupeSettings(_Model):
    window_days: float = Field(default=14.0, gt=0, description="Compare with items this recent.")
    max_distance: int = Field(
        default=24, ge=0, le=64, description="Simhash bits (of 128) that may differ."
    )


class SourcesConfig(_Model):
    projects: list[ProjectConfig] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    youtube: YoutubeEndpoints = Field(default_factory=YoutubeEndpoints)
    dedupe: DedupeSettings = Field(default_factory=DedupeSettings)

    @model_validator(mode="after")
    def _unique_projects(self) -> SourcesConfig:
        slugs = [p.slug for p in self.projects]
        dupes = sorted({s for s in slugs if slugs.count(s) > 1})
        if dupes:
            raise ValueError(f"duplicate project slugs: {dupes}")
        return self

    def project(self, slug: str) -> ProjectConfig | None:
        return next((p for p in self.projects if p.slug == slug), None)

    @property
    def source_count(self) -> int:
        return sum(len(p.sources) for p in self.projects)


def source_key(project: str, source_id: str) -> str:
    """The key of a source's state in the sensor cursor: a sources-file source by its name,
    an API source by its row id."""
    return f"{project}/{source_id}"


def legacy_source_name(feed: str) -> str:
    return f"feed-{hashlib.sha256(feed.encode()).hexdigest()[:10]}"


def with_legacy_feeds(config: SourcesConfig, feeds: list[str], project: str) -> SourcesConfig:
    """``AUTOCLIP_FEEDS`` as sources-file specs: each feed an RSS source of ``project``
    (polled every 5 min).

    A project created this way auto-generates (a feed given on the command line is meant to
    be watched and turned into videos); a project that the sources file already defines keeps
    its own settings and gains the feeds.
    """
    if not feeds:
        return config
    legacy = [
        RssSource(name=legacy_source_name(feed), url=feed, poll_interval=300.0) for feed in feeds
    ]
    existing = config.project(project)
    if existing is None:
        created = ProjectConfig(slug=project, auto_generate=True, sources=legacy)
        projects = [*config.projects, created]
    else:
        known = {s.name for s in existing.sources}
        merged = existing.model_copy(
            update={"sources": [*existing.sources, *(s for s in legacy if s.name not in known)]}
        )
        projects = [merged if p.slug == project else p for p in config.projects]
    return config.model_copy(update={"projects": projects})


def parse_sources_config(raw: dict[str, Any], *, origin: str = "sources file") -> SourcesConfig:
    try:
        return SourcesConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SourcesConfigError(f"{origin} is invalid: {problems}") from None


def load_sources_config(path: Path | str) -> SourcesConfig:
    """Read and validate a sources file (JSON for ``.json``, YAML otherwise)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise SourcesConfigError(f"sources file not found: {path}")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise SourcesConfigError(f"sources file larger than {MAX_CONFIG_BYTES} bytes: {path}")
    text = path.read_text(encoding="utf-8-sig")
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise SourcesConfigError(f"sources file {path} cannot be parsed: {exc}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SourcesConfigError(f"sources file {path} must hold a mapping at the top")
    return parse_sources_config(raw, origin=f"sources file {path}")


def configured_sources(sources_file: Path | None) -> SourcesConfig:
    """The sources file's configuration, or an empty one when no file is set."""
    return load_sources_config(sources_file) if sources_file else SourcesConfig()
