"""The sources a tick polls: the sources file's and the API's, from the ``sources`` table.

- Sources of the **sources file** are mirrored into the table on every tick (``origin``
  ``file``, under a deterministic id, ``file_source_id``): the file stays their definition,
  the table holds their health, so the API and operators read every source's health in
  one place.
- **Polled sources created through the API** (``origin`` ``api``) are read from the table
  as the same ``SourceSpec`` the file declares, so the tick polls them like the file's.
  Webhook sources are not polled: their items are pushed in (``autoclip_api.sources``) and
  picked up by ``webhook_items_sensor``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autoclip_core.db.engine import Database
from autoclip_core.db.projects import SETTINGS
from autoclip_core.db.sources import FileProject, SourceRepository, file_source_id
from autoclip_core.ingest.config import (
    PolledSource,
    ProjectConfig,
    SourcesConfig,
    WebhookSource,
    check_remote,
    source_key,
)


@dataclass(frozen=True)
class CatalogSource:
    project: ProjectConfig
    """The sources file's project, or one standing in for an API-created project."""
    source_id: str
    """The source's key within its project: its name in the file, its row id otherwise."""
    row_id: str
    spec: PolledSource

    @property
    def key(self) -> str:
        return source_key(self.project.slug, self.source_id)


@dataclass(frozen=True)
class Catalog:
    sources: dict[str, CatalogSource] = field(default_factory=dict)
    """Every polled source by key (``project/source``)."""
    problems: list[str] = field(default_factory=list)
    """API sources left out, and why."""


def _file_projects(config: SourcesConfig) -> list[FileProject]:
    return [
        FileProject(
            slug=p.slug,
            name=p.name,
            settings=p.model_dump(mode="json", include=set(SETTINGS)),
            sources=tuple(p.sources),
        )
        for p in config.projects
    ]


def load_catalog(config: SourcesConfig, database: Database) -> Catalog:
    """Mirror the file into the table, then add the API's polled sources to the file's."""
    repository = SourceRepository(database)
    repository.sync_file_sources(_file_projects(config))
    catalog = Catalog()
    for p in config.projects:
        for spec in p.polled_sources:
            entry = CatalogSource(p, spec.name, file_source_id(p.slug, spec.name), spec)
            catalog.sources[entry.key] = entry
    projects = {p.slug: p for p in config.projects}
    for record in repository.records(origin="api"):
        slug = record.project.slug
        key = source_key(slug, record.id)
        if isinstance(record.spec, WebhookSource):
            continue
        try:
            if record.spec is None:
                raise ValueError(record.invalid)
            # the readers also read local files: never for a source created through the API
            spec = check_remote(record.spec)
        except ValueError as exc:
            catalog.problems.append(f"{key}: not polled: {exc}")
            continue
        assert not isinstance(spec, WebhookSource)
        project = projects.setdefault(
            slug,
            ProjectConfig(
                slug=slug,
                timezone=record.project.timezone,
                auto_generate=record.project.auto_generate,
            ),
        )
        catalog.sources[key] = CatalogSource(project, record.id, record.id, spec)
    return catalog
