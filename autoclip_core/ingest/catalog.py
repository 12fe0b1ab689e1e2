"""The ``sources`` table as ingestion sees it: every source's definition and health.

- Sources of the **sources file** are mirrored into the table on every tick (``origin``
  ``file``, under a deterministic id, ``file_source_id``): the file stays their definition,
  the table holds their health, so the API and operators read every source's health in
  one place.
- **Polled sources created through the API** (``origin`` ``api``, kinds ``rss``, ``atom``,
  ``youtube``, ``json_api``) are read from the table and joined to the configuration, so
  the tick polls them like the file's. Webhook sources are not polled: their items are
  pushed in (``autoclip_api.sources``) and picked up by ``webhook_items_sensor``.

``source_from_row`` is the one place a row becomes a reader's configuration; the API
validates what it stores through it too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from autoclip_core.db.engine import Database
from autoclip_core.db.sources import FileProject, SourceDefinition, SourceRecord, SourceRepository
from autoclip_core.ingest.config import (
    DropFolderSource,
    JsonApiSource,
    ProjectConfig,
    RssSource,
    Source,
    SourcesConfig,
    YoutubeSource,
    source_key,
)

AnySource = RssSource | YoutubeSource | JsonApiSource | DropFolderSource
POLLED_KINDS = ("rss", "atom", "youtube", "json_api")
"""Kinds the API may create that the sensor polls (``drop_folder`` is file-only: a path on
the server; ``webhook`` is pushed to)."""
KIND_TYPES = {
    "rss": "rss",
    "atom": "rss",  # feedparser reads RSS and Atom alike
    "youtube": "youtube",
    "json_api": "json_api",
    "drop_folder": "drop_folder",
}
_SOURCE = TypeAdapter(Source)
_ROW_FIELDS = {"id", "type", "poll_interval", "enabled"}


def file_source_id(project: str, source_id: str) -> str:
    """The row id of a sources-file source: stable across ticks and restarts."""
    return hashlib.sha256(f"file:{source_key(project, source_id)}".encode()).hexdigest()[:32]


def definition_of(project: str, source: AnySource) -> SourceDefinition:
    """A sources-file source as a row: the URL in its column, the rest in ``config``."""
    config = source.model_dump(mode="json", exclude=_ROW_FIELDS)
    url = config.pop("url", None)
    return SourceDefinition(
        id=file_source_id(project, source.id),
        kind=source.type,
        name=source.id,
        url=url,
        config=config,
        poll_interval_s=source.poll_interval,
        enabled=source.enabled,
    )


def source_from_row(
    source_id: str,
    kind: str,
    *,
    url: str | None,
    config: dict[str, Any],
    poll_interval_s: float | None,
    enabled: bool = True,
) -> AnySource:
    """The reader configuration of a polled source row; ValueError when it is not valid."""
    if kind not in KIND_TYPES:
        raise ValueError(f"sources of kind {kind!r} are not polled")
    data: dict[str, Any] = {**config, "id": source_id, "type": KIND_TYPES[kind], "enabled": enabled}
    if url is not None:
        data["url"] = url
    if poll_interval_s is not None:
        data["poll_interval"] = poll_interval_s
    try:
        source: AnySource = _SOURCE.validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'source'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ValueError(problems) from None
    return source


@dataclass(frozen=True)
class Catalog:
    config: SourcesConfig
    """The sources file's configuration with the API's polled sources joined in."""
    row_ids: dict[str, str] = field(default_factory=dict)
    """Source key (``project/source``) → its row in ``sources``."""
    problems: list[str] = field(default_factory=list)
    """API sources left out, and why."""


def _file_projects(config: SourcesConfig) -> list[FileProject]:
    return [
        FileProject(
            slug=p.slug,
            name=p.name,
            timezone=p.timezone,
            auto_generate=p.auto_generate,
            sources=tuple(definition_of(p.slug, s) for s in p.sources),
        )
        for p in config.projects
    ]


def _api_source(record: SourceRecord) -> AnySource:
    """An API-created row: never a path on this server (the readers also read local files)."""
    d = record.definition
    if d.url is not None and not d.url.lower().startswith(("http://", "https://")):
        raise ValueError("only http(s) URLs may be polled for sources created through the API")
    return source_from_row(
        d.id,
        d.kind,
        url=d.url,
        config=d.config,
        poll_interval_s=d.poll_interval_s,
        enabled=d.enabled,
    )


def load_catalog(config: SourcesConfig, database: Database) -> Catalog:
    """Mirror the file into the table, then join the API's polled sources to the file's."""
    sources = SourceRepository(database)
    sources.sync_file_sources(_file_projects(config))
    row_ids = {
        source_key(p.slug, s.id): file_source_id(p.slug, s.id)
        for p in config.projects
        for s in p.sources
    }
    projects = {p.slug: p for p in config.projects}
    problems: list[str] = []
    for record in sources.records(origin="api", kinds=POLLED_KINDS):
        slug = record.project.slug
        try:
            source = _api_source(record)
            project = projects.get(slug) or ProjectConfig(
                slug=slug,
                timezone=record.project.timezone,
                auto_generate=record.project.auto_generate,
            )
        except (ValueError, ValidationError) as exc:
            problems.append(f"{source_key(slug, record.id)}: not polled: {exc}")
            continue
        projects[slug] = project.model_copy(update={"sources": [*project.sources, source]})
        row_ids[source_key(slug, record.id)] = record.id
    merged = config.model_copy(update={"projects": list(projects.values())})
    return Catalog(merged, row_ids, problems)
