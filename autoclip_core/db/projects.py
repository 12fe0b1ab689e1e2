"""Projects: their settings as the pipeline reads them, and the API's tenant-scoped access."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict, Unpack, cast

from sqlalchemy import ColumnElement, Row, Select, Table, delete, false, func, select
from sqlalchemy.orm import Session

from autoclip_core.db.channels import publish_targets
from autoclip_core.db.content import content_or_raise
from autoclip_core.db.engine import Database, Repository
from autoclip_core.db.models import Project
from autoclip_core.ingest.config import DailyBatch

PROJECTS = cast(Table, Project.__table__)


SETTINGS = (
    "timezone",
    "auto_generate",
    "review_required",
    "template_id",
    "channels",
    "blocked_terms",
    "daily_batch",
    "topic_weights",
)
"""The columns a project's settings live in: what the sources file mirrors and the API sets."""


@dataclass(frozen=True)
class ProjectSettings:
    id: str
    slug: str
    review_required: bool
    blocked_terms: tuple[str, ...]
    template_id: str
    channels: tuple[str, ...]
    timezone: str = "UTC"
    auto_generate: bool = False
    daily_batch: DailyBatch | None = None
    topic_weights: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, p: Project, channels: Sequence[str] | None = None) -> ProjectSettings:
        """``channels``: the project's publish targets when resolved (``of_content``), else
        the column as it is."""
        return cls(
            p.id,
            p.slug,
            p.review_required,
            tuple(p.blocked_terms or ()),
            p.template_id,
            tuple(channels if channels is not None else (p.channels or ("local",))),
            p.timezone or "UTC",
            bool(p.auto_generate),
            DailyBatch.model_validate(p.daily_batch) if p.daily_batch else None,
            dict(p.topic_weights or {}),
        )


class ProjectFields(TypedDict, total=False):
    """Settings a project can be given by name (None: leave as it is)."""

    name: str | None
    review_required: bool | None
    blocked_terms: list[str] | None
    timezone: str | None
    auto_generate: bool | None
    template_id: str | None
    channels: list[str] | None
    daily_batch: DailyBatch | None
    topic_weights: dict[str, float] | None


def apply_settings(project: Project, values: Mapping[str, Any]) -> bool:
    """Set these columns (a ``DailyBatch`` stored as its JSON); whether any changed."""
    changed = False
    for column, given in values.items():
        value = given.model_dump(mode="json") if isinstance(given, DailyBatch) else given
        if isinstance(value, tuple):
            value = list(value)
        if getattr(project, column) != value:
            setattr(project, column, value)
            changed = True
    return changed


def ensure_project(s: Session, slug: str, **settings: Unpack[ProjectFields]) -> Project:
    """The project of ``slug``, created when missing; the given settings (not None) applied.

    ``name`` only names a project it creates.
    """
    project = s.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        project = Project(
            slug=slug,
            name=settings.get("name") or slug,
            blocked_terms=[],
            channels=["local"],
            topic_weights={},
        )
        s.add(project)
    apply_settings(
        project, {k: v for k, v in settings.items() if k != "name" and v is not None}
    )
    return project


class ProjectRepository(Repository):
    """``on_change`` is called with the organisation of every project a write touches (the
    API drops that organisation's cached answers)."""

    def __init__(
        self, bind: Database | Session, *, on_change: Callable[[str], None] | None = None
    ) -> None:
        super().__init__(bind)
        self._on_change = on_change

    # the pipeline ---------------------------------------------------------------------------

    def ensure(self, slug: str, **settings: Unpack[ProjectFields]) -> ProjectSettings:
        with self._session() as s:
            project = ensure_project(s, slug, **settings)
            s.flush()
            return ProjectSettings.of(project)

    def all(self) -> list[ProjectSettings]:
        with self._session() as s:
            rows = s.scalars(select(Project).order_by(Project.slug))
            return [ProjectSettings.of(p) for p in rows]

    def auto_generating(self, slugs: Iterable[str]) -> set[str]:
        """Which of these projects request a content run for every new item."""
        wanted = sorted(set(slugs))
        if not wanted:
            return set()
        with self._session() as s:
            return set(
                s.scalars(
                    select(Project.slug).where(
                        Project.slug.in_(wanted), Project.auto_generate.is_(True)
                    )
                )
            )

    def of_content(self, content_id: str) -> ProjectSettings:
        """The settings of the item's project, its channels as publish targets."""
        with self._session() as s:
            project = content_or_raise(s, content_id).project
            return ProjectSettings.of(project, publish_targets(s, project))

    # the API: every read starts at the tenant scope -------------------------------------------

    @staticmethod
    def get_readable_statement(org_id: str | None, *columns: ColumnElement[Any]) -> Select[Any]:
        """THE tenant scope: the projects organisation ``org_id`` owns (as ORM objects, or the
        given columns). Every read, update and delete of a project through the API starts
        here, so another organisation's project is invisible (a 404, exactly like a missing
        one) and never listed; projects of the sources file (no organisation) are never
        readable through the API.
        """
        statement = select(*columns) if columns else select(Project)
        if org_id is None:
            return statement.where(false())
        return statement.where(PROJECTS.c.org_id == org_id)

    def list_readable(
        self,
        org_id: str | None,
        columns: Sequence[str],
        *,
        limit: int,
        offset: int,
    ) -> tuple[Sequence[Row[Any]], int]:
        """A page of plain rows (the named columns: no ORM objects, the hot path), oldest
        first, and the total."""
        selected = [PROJECTS.c[name] for name in columns]
        statement = (
            self.get_readable_statement(org_id, *selected, func.count().over().label("total"))
            .order_by(PROJECTS.c.created_at, PROJECTS.c.id)
            .limit(limit)
            .offset(offset)
        )
        with self._session() as s:
            rows = s.execute(statement).all()
            if rows:
                return rows, int(rows[0].total)
            if offset == 0:
                return rows, 0
            total = s.scalar(self.get_readable_statement(org_id, func.count()))
            return rows, int(total or 0)

    def get_readable(self, org_id: str | None, project_id: str) -> Project | None:
        with self._session() as s:
            return s.scalar(self.get_readable_statement(org_id).where(PROJECTS.c.id == project_id))

    def add(self, project: Project) -> Project:
        with self._session() as s:
            s.add(project)
            s.flush()
        self._changed(project)
        return project

    def update(self, project: Project, values: dict[str, Any], now: datetime) -> None:
        with self._session() as s:
            for field, value in values.items():
                setattr(project, field, value)
            project.updated_at = now
            s.add(project)
        self._changed(project)

    def delete(self, project: Project) -> None:
        """Deletes in SQL; the database cascades the project's content items, jobs, events."""
        with self._session() as s:
            s.execute(delete(PROJECTS).where(PROJECTS.c.id == project.id))
        self._changed(project)

    def _changed(self, project: Project) -> None:
        if project.org_id is not None and self._on_change is not None:
            self._on_change(project.org_id)
