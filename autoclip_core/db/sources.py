"""Sources: what each source is (the sources file's, mirrored; the API's) and its health."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select

from autoclip_core.db.engine import Repository, aware
from autoclip_core.db.models import Project, Source, utcnow
from autoclip_core.db.projects import PROJECTS, ProjectRepository, ProjectSettings, ensure_project


@dataclass(frozen=True)
class SourceHealth:
    """How a source is doing (columns of ``sources``); written after each poll or push."""

    last_checked_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_warning: str | None = None
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None
    last_new: int = 0
    last_duplicates: int = 0
    total_new: int = 0

    @classmethod
    def of(cls, source: Source) -> SourceHealth:
        return cls(
            last_checked_at=aware(source.last_checked_at),
            last_success_at=aware(source.last_success_at),
            last_error=source.last_error,
            last_warning=source.last_warning,
            consecutive_failures=source.consecutive_failures or 0,
            next_poll_at=aware(source.next_poll_at),
            last_new=source.last_new or 0,
            last_duplicates=source.last_duplicates or 0,
            total_new=source.total_new or 0,
        )


HEALTH_COLUMNS = tuple(f.name for f in fields(SourceHealth))


@dataclass(frozen=True)
class SourceDefinition:
    """What a source is (a row of ``sources`` without its health)."""

    id: str
    kind: str
    name: str
    url: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    poll_interval_s: float | None = None
    enabled: bool = True


@dataclass(frozen=True)
class FileProject:
    """A project of the sources file with its sources, as mirrored into the database."""

    slug: str
    name: str | None
    timezone: str
    auto_generate: bool
    sources: tuple[SourceDefinition, ...]


@dataclass(frozen=True)
class SourceRecord:
    definition: SourceDefinition
    project: ProjectSettings
    origin: str
    health: SourceHealth
    secret_nonce: str | None = None

    @property
    def id(self) -> str:
        return self.definition.id

    @classmethod
    def of(cls, source: Source, project: Project) -> SourceRecord:
        return cls(
            definition=SourceDefinition(
                id=source.id,
                kind=source.kind,
                name=source.name,
                url=source.url,
                config=dict(source.config or {}),
                poll_interval_s=source.poll_interval_s,
                enabled=source.enabled,
            ),
            project=ProjectSettings.of(project),
            origin=source.origin,
            health=SourceHealth.of(source),
            secret_nonce=source.secret_nonce,
        )


class SourceRepository(Repository):
    # the pipeline ---------------------------------------------------------------------------

    def sync_file_sources(self, projects: Sequence[FileProject]) -> None:
        """Mirror the sources file: its projects' settings, and its sources as ``file`` rows.

        Rows of sources no longer in the file are deleted; health is left as it is.
        """
        with self._session() as s:
            wanted: dict[str, tuple[Project, SourceDefinition]] = {}
            for spec in projects:
                project = ensure_project(
                    s,
                    spec.slug,
                    name=spec.name,
                    timezone=spec.timezone,
                    auto_generate=spec.auto_generate,
                )
                for definition in spec.sources:
                    wanted[definition.id] = (project, definition)
            s.flush()
            rows = {row.id: row for row in s.scalars(select(Source).where(Source.origin == "file"))}
            for row_id, row in rows.items():
                if row_id not in wanted:
                    s.delete(row)
            for row_id, (project, d) in wanted.items():
                row = rows.get(row_id)
                if row is None:
                    row = Source(id=row_id, origin="file", project_id=project.id)
                    s.add(row)
                values = {
                    "project_id": project.id,
                    "kind": d.kind,
                    "name": d.name,
                    "url": d.url,
                    "config": d.config,
                    "poll_interval_s": d.poll_interval_s,
                    "enabled": d.enabled,
                }
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
            return {row.id: SourceHealth.of(row) for row in rows}

    def save_health(self, health: Mapping[str, SourceHealth]) -> None:
        """Write the health of these sources (missing rows — deleted meanwhile — are skipped)."""
        if not health:
            return
        with self._session() as s:
            for row in s.scalars(select(Source).where(Source.id.in_(sorted(health)))):
                for column, value in asdict(health[row.id]).items():
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
