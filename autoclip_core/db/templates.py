"""Video templates: the engine's built-ins and each organisation's own (``templates`` rows).

A template id is a built-in's name (``short``, ``long``, ``square``) or a row's id. An
organisation sees the built-ins and its own rows only; a project of the sources file (no
organisation) renders with built-ins only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, false, func, select
from sqlalchemy.orm import Session

from autoclip_core.db.content import content_or_raise
from autoclip_core.db.engine import Database, Repository
from autoclip_core.db.models import VideoTemplate
from autoclip_core.db.projects import PROJECTS, ProjectRepository
from autoclip_core.render.templates import load_template
from autoclip_core.template_checks import is_builtin

TEMPLATES = cast(Table, VideoTemplate.__table__)


class UnknownTemplateError(LookupError):
    """No built-in of that name and no template of that id in the organisation."""


class TemplateRepository(Repository):
    """``on_change`` is called with the organisation of every template a write touches."""

    def __init__(
        self, bind: Database | Session, *, on_change: Callable[[str], None] | None = None
    ) -> None:
        super().__init__(bind)
        self._on_change = on_change

    @staticmethod
    def get_readable_statement(org_id: str | None) -> Select[Any]:
        """THE tenant scope of templates: the rows organisation ``org_id`` owns."""
        statement = select(VideoTemplate)
        if org_id is None:
            return statement.where(false())
        return statement.where(TEMPLATES.c.org_id == org_id)

    def list_readable(
        self, org_id: str | None, *, limit: int, offset: int
    ) -> tuple[Sequence[VideoTemplate], int]:
        """A page of the organisation's templates, oldest first, and their total."""
        with self._session() as s:
            rows = s.scalars(
                self.get_readable_statement(org_id)
                .order_by(TEMPLATES.c.created_at, TEMPLATES.c.id)
                .limit(limit)
                .offset(offset)
            ).all()
            total = s.scalar(
                select(func.count()).select_from(self.get_readable_statement(org_id).subquery())
            )
            return rows, int(total or 0)

    def get_readable(self, org_id: str | None, template_id: str) -> VideoTemplate | None:
        with self._session() as s:
            return s.scalar(
                self.get_readable_statement(org_id).where(TEMPLATES.c.id == template_id)
            )

    def exists(self, org_id: str | None, template_id: str) -> bool:
        """Whether the organisation may render with ``template_id`` (a built-in or its own)."""
        return is_builtin(template_id) or self.get_readable(org_id, template_id) is not None

    def source(self, org_id: str | None, template_id: str) -> dict[str, Any]:
        """The RenderScript JSON of a built-in or of the organisation's template."""
        if is_builtin(template_id):
            return load_template(template_id)
        row = self.get_readable(org_id, template_id)
        if row is None:
            raise UnknownTemplateError(f"no template {template_id!r} for this project")
        return dict(row.source)

    def source_for_content(self, content_id: str, template_id: str) -> dict[str, Any]:
        """The template the pipeline renders a content item with, looked up in the
        organisation of the item's project."""
        with self._session() as s:
            org_id = content_or_raise(s, content_id).project.org_id
        return self.source(org_id, template_id)

    def used_by(self, template: VideoTemplate) -> list[str]:
        """Ids of the organisation's projects that render with ``template``."""
        with self._session() as s:
            return list(
                s.scalars(
                    ProjectRepository.get_readable_statement(template.org_id, PROJECTS.c.id).where(
                        PROJECTS.c.template_id == template.id
                    )
                )
            )

    def add(self, template: VideoTemplate) -> VideoTemplate:
        with self._session() as s:
            s.add(template)
            s.flush()
        self._changed(template)
        return template

    def update(self, template: VideoTemplate, values: dict[str, Any], now: datetime) -> None:
        with self._session() as s:
            for name, value in values.items():
                setattr(template, name, value)
            template.updated_at = now
            s.add(template)
            s.flush()
        self._changed(template)

    def delete(self, template: VideoTemplate) -> None:
        with self._session() as s:
            s.delete(template)
            s.flush()
        self._changed(template)

    def _changed(self, template: VideoTemplate) -> None:
        if self._on_change is not None:
            self._on_change(template.org_id)
