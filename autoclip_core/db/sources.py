"""Sources: their rows (a ``SourceSpec`` plus health) for the pipeline and the API.

A row holds a spec as columns (``kind``, ``name``, ``url``, ``poll_interval_s``,
``enabled``) and ``config`` (the kind's other fields); :func:`row_values` and
:func:`spec_of` are the two directions, so whatever a row says is read back as the same
spec. Health is :class:`~autoclip_core.ingest.state.SourceHealth`, column for column.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Select, delete, select

from autoclip_core.db.engine import Repository
from autoclip_core.db.models import Project, Source, utcnow
from autoclip_core.db.projects import (
    PROJECTS,
    ProjectRepository,
    ProjectSettings,
    apply_settings,
    ensure_project,
)
from autoclip_core.ingest.config import SourceSpec, WebhookSource, source_key
from autoclip_core.ingest.state import SourceHealth

_SPEC: TypeAdapter[SourceSpec] = TypeAdapter(SourceSpec)
_COLUMN_FIELDS = frozenset({"kind", "name", "url", "poll_interval", "enabled"})


def file_source_id(project: str, name: str) -> str:
    """The row id of a sources-file source: stable across ticks and restarts."""
    return hashlib.sha256(f"file:{source_key(project, name)}".encode()).hexdigest()[:32]


def row_values(spec: SourceSpec) -> dict[str, Any]:
    """The columns of a row holding ``spec`` (unset server-side options left out)."""
    data = spec.model_dump(mode="json")
    return {
        "kind": spec.kind,
        "name": spec.name,
        "url": data.get("url"),
        "config": {
            k: v for k, v in data.items() if k not in _COLUMN_FIELDS and v is not None
        },
        "poll_interval_s": None if isinstance(spec, WebhookSource) else spec.poll_interval,
        "enabled": spec.enabled,
    }


def spec_of(row: Source) -> SourceSpec:
    """The spec a row holds; ValueError (saying which field) when the row is not valid."""
    data: dict[str, Any] = {
        **(row.config or {}),
        "kind": row.kind,
        "name": row.name,
        "enabled": row.enabled,
    }
    if row.url is not None:
        data["url"] = row.url
    if row.poll_interval_s is not None:
        data["poll_interval"] = row.poll_interval_s
    try:
        return _SPEC.validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][1:]) or 'source'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ValueError(problems) from None


@dataclass(frozen=True)
class FileProject:
    """A project of the sources file, as mirrored into the database: its name (for a new
    row), all its settings (``projects.SETTINGS``) and its sources."""

    slug: str
    name: str | None
    settings: Mapping[str, Any]
    sources: tuple[SourceSpec, ...]


@dataclass(frozen=True)
class SourceRecord:
    """A row: its spec (None when the row does not hold a valid one, ``invalid`` says why),
    project and health."""

    id: str
    origin: str
    project: ProjectSettings
    spec: SourceSpec | None
    health: SourceHealth
    invalid: str | None = None
    secret_nonce: str | None = None

    @classmethod
    def of(cls, source: Source, project: Project) -> SourceRecord:
        spec: SourceSpec | None = None
        invalid: str | None = None
        try:
            spec = spec_of(source)
        except ValueError as exc:
            invalid = str(exc)
        return cls(
            id=source.id,
            origin=source.origin,
            project=ProjectSettings.of(project),
            spec=spec,
            health=SourceHealth.model_validate(source),
            invalid=invalid,
            secret_nonce=source.secret_nonce,
        )


class SourceRepository(Repository):
    # the pipeline ---------------------------------------------------------------------------

    def sync_file_sources(self, projects: Sequence[FileProject]) -> None:
        """Mirror the sources file: its projects with all their settings, and its sources as
        ``file`` rows.

        Rows of sources no longer in the file are deleted; health is left as it is.
        """
        with self._session() as s:
            wanted: dict[str, tuple[Project, SourceSpec]] = {}
            for spec in projects:
                project = ensure_project(s, spec.slug, name=spec.name)
                if apply_settings(project, spec.settings) and project.id is not None:
                    project.updated_at = utcnow()
                for source in spec.sources:
                    wanted[file_source_id(spec.slug, source.name)] = (project, source)
            s.flush()
            rows = {row.id: row for row in s.scalars(select(Source).where(Source.origin == "file"))}
            for row_id, row in rows.items():
                if row_id not in wanted:
                    s.delete(row)
            for row_id, (project, source) in wanted.items():
                row = rows.get(row_id)
                if row is None:
                    row = Source(id=row_id, origin="file", project_id=project.id)
                    s.add(row)
                values = {"project_id": project.id, **row_values(source)}
                changes = {c: v for c, v in values.items() if getattr(row, c, None) != v}
                for column, value in changes.items():
                    setattr(row, column, value)
                if changes and row_id in rows:
                    row.updated_at = utcnow()

    def records(
        self,
        *,
        origin: str | None = None,
        kinds: Iterable[str] | None = None,
        project: str | None = None,
    ) -> list[SourceRecord]:
        """Sources with their project and health, oldest first (optionally filtered)."""
        statement = select(Source, Project).join(Project, Source.project_id == Project.id)
        if origin is not None:
            statement = statement.where(Source.origin == origin)
        if kinds is not None:
            statement = statement.where(Source.kind.in_(list(kinds)))
        if project is not None:
            statement = statement.where(Project.slug == project)
        with self._session() as s:
            rows = s.execute(statement.order_by(Source.created_at, Source.id)).all()
            return [SourceRecord.of(source, project_row) for source, project_row in rows]

    def record(self, source_id: str) -> SourceRecord | None:
        with self._session() as s:
            row = s.execute(
                select(Source, Project)
                .join(Project, Source.project_id == Project.id)
                .where(Source.id == source_id)
            ).first()
            return None if row is None else SourceRecord.of(*row)

    def health(self, ids: Iterable[str]) -> dict[str, SourceHealth]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        with self._session() as s:
            rows = s.scalars(select(Source).where(Source.id.in_(wanted)))
            return {row.id: SourceHealth.model_validate(row) for row in rows}

    def save_health(self, health: Mapping[str, SourceHealth]) -> None:
        """Write the health of these sources (missing rows — deleted meanwhile — are skipped)."""
        if not health:
            return
        with self._session() as s:
            for row in s.scalars(select(Source).where(Source.id.in_(sorted(health)))):
                for column, value in health[row.id].model_dump().items():
                    if getattr(row, column) != value:
                        setattr(row, column, value)

    def record_push(
        self, source_id: str, *, new: int, duplicates: int, warning: str | None = None
    ) -> None:
        """A webhook delivery was taken in: its counts become the source's health."""
        now = utcnow()
        with self._session() as s:
            row = s.get(Source, source_id)
            if row is None:
                return
            row.last_checked_at = row.last_success_at = now
            row.last_error = None
            row.last_warning = warning[:500] if warning else None
            row.consecutive_failures = 0
            row.last_new, row.last_duplicates = new, duplicates
            row.total_new = (row.total_new or 0) + new

    # the API: every read starts at the tenant scope -------------------------------------------

    @staticmethod
    def get_readable_statement(org_id: str | None, project_id: str) -> Select[Any]:
        """THE tenant scope of sources: those created through the API for project
        ``project_id``, if organisation ``org_id`` may read that project."""
        readable = ProjectRepository.get_readable_statement(org_id, PROJECTS.c.id).where(
            PROJECTS.c.id == project_id
        )
        return select(Source).where(Source.project_id.in_(readable), Source.origin == "api")

    def list_readable(self, org_id: str | None, project_id: str) -> Sequence[Source]:
        with self._session() as s:
            return s.scalars(
                self.get_readable_statement(org_id, project_id).order_by(
                    Source.created_at, Source.id
                )
            ).all()

    def get_readable(self, org_id: str | None, project_id: str, source_id: str) -> Source | None:
        with self._session() as s:
            return s.scalar(
                self.get_readable_statement(org_id, project_id).where(Source.id == source_id)
            )

    def add(self, source: Source) -> Source:
        with self._session() as s:
            s.add(source)
            s.flush()
        return source

    def delete(self, source: Source) -> None:
        """Deletes in SQL; items it pushed stay (their ``source_id`` becomes NULL)."""
        with self._session() as s:
            s.execute(delete(Source).where(Source.id == source.id))
