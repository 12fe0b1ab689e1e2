from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Select, Table, delete, false, func, select
from sqlalchemy.orm import Session

from autoclip_api.auth.subject import AuthSubject
from autoclip_api.core.db import changed
from autoclip_api.core.ratelimit import org_scope
from autoclip_api.core.types import is_hex_id
from autoclip_api.projects.schemas import ProjectRead
from autoclip_core.models import Project

PROJECTS = cast(Table, Project.__table__)
# Lists select plain columns (Core rows, no ORM objects): they are the hot path. The columns
# are those the API returns, so the two cannot drift apart.
LIST_COLUMNS = tuple(PROJECTS.c[name] for name in ProjectRead.model_fields)


class ProjectRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def get_readable_statement(subject: AuthSubject, *columns: ColumnElement[Any]) -> Select[Any]:
        """THE tenant scope: the projects the subject's organisation owns (as ORM objects, or
        the given columns). Every read, update and delete of a project starts here, so another
        organisation's project is invisible (a 404, exactly like a missing one) and never
        listed.
        """
        statement = select(*columns) if columns else select(Project)
        if subject.org_id is None:
            return statement.where(false())
        return statement.where(PROJECTS.c.org_id == subject.org_id)

    def list(
        self, subject: AuthSubject, *, limit: int, offset: int
    ) -> tuple[Sequence[Row[Any]], int]:
        """A page of plain rows, oldest first, and the total."""
        statement = (
            self.get_readable_statement(subject, *LIST_COLUMNS, func.count().over().label("total"))
            .order_by(PROJECTS.c.created_at, PROJECTS.c.id)
            .limit(limit)
            .offset(offset)
        )
        rows = self.session.execute(statement).all()
        if rows:
            return rows, int(rows[0].total)
        if offset == 0:
            return rows, 0
        total = self.session.scalar(self.get_readable_statement(subject, func.count()))
        return rows, int(total or 0)

    def get(self, subject: AuthSubject, project_id: str) -> Project | None:
        if not is_hex_id(project_id):
            return None
        return self.session.scalar(
            self.get_readable_statement(subject).where(PROJECTS.c.id == project_id)
        )

    # Every write marks the organisation's data as changed (its cached lists are stale).

    def add(self, project: Project) -> Project:
        self.session.add(project)
        self.session.flush()
        self._changed(project)
        return project

    def update(self, project: Project, values: dict[str, Any], now: datetime) -> None:
        for field, value in values.items():
            setattr(project, field, value)
        project.updated_at = now
        self._changed(project)

    def delete(self, project: Project) -> None:
        """Deletes in SQL; the database cascades the project's content items, jobs, events."""
        self.session.execute(delete(PROJECTS).where(PROJECTS.c.id == project.id))
        self._changed(project)

    def _changed(self, project: Project) -> None:
        if project.org_id is not None:
            changed(self.session, org_scope(project.org_id))
