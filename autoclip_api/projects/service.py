from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from autoclip_api.auth.subject import AuthSubject
from autoclip_api.context import ApiContext
from autoclip_api.core.errors import NotFound
from autoclip_api.core.types import is_hex_id
from autoclip_api.projects.schemas import ProjectCreate, ProjectList, ProjectRead, ProjectUpdate
from autoclip_api.templates.references import template_reference_problem
from autoclip_core.cache_versions import changed, org_scope
from autoclip_core.db.channels import ChannelRepository
from autoclip_core.db.models import Project, new_id, utcnow
from autoclip_core.db.projects import ProjectRepository

logger = logging.getLogger("autoclip_api.projects")
T = TypeVar("T")

PROJECT_NOT_FOUND = "Project not found"
_PROJECT_LIST = TypeAdapter(ProjectList)
# Lists read exactly the columns the API returns, so the two cannot drift apart.
LIST_COLUMNS = tuple(ProjectRead.model_fields)


def projects(session: Session) -> ProjectRepository:
    """The projects repository on a request session: its writes mark the organisation's
    cached answers stale (:func:`changed`)."""
    return ProjectRepository(session, on_change=lambda org_id: changed(session, org_scope(org_id)))


def slugify(name: str, project_id: str) -> str:
    """A URL-safe, globally unique slug (the pipeline files items under projects by slug)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:48] or "project"
    return f"{base}-{project_id[:8]}"


def readable_or_404(object_id: str, lookup: Callable[[str], T | None], detail: str) -> T:
    """What ``lookup`` finds for a well-formed id; else 404 with ``detail``: an id of another
    organisation, a missing one and a malformed one get the same answer."""
    found = lookup(object_id) if is_hex_id(object_id) else None
    if found is None:
        raise NotFound(detail)
    return found


def readable_project(session: Session, subject: AuthSubject, project_id: str) -> Project:
    """The project if the subject's organisation may read it; else 404, as for a missing one."""
    return readable_or_404(
        project_id, partial(projects(session).get_readable, subject.org_id), PROJECT_NOT_FOUND
    )


def check_references(
    session: Session, subject: AuthSubject, project: Project | None, values: dict[str, Any]
) -> None:
    """422 naming ``template_id`` or ``channels`` when they name a template the organisation
    cannot render with, or channels that are not the project's (a new project has none)."""
    errors: list[dict[str, Any]] = []

    def refuse(kind: str, field: str, message: str) -> None:
        errors.append({"type": kind, "loc": ("body", field), "msg": message})

    template_id = values.get("template_id")
    if template_id is not None:
        problem = template_reference_problem(session, subject.org_id, template_id)
        if problem is not None:
            refuse("unknown_template", "template_id", problem)
    channel_ids = values.get("channels")
    if channel_ids:
        repeated = sorted({i for i in channel_ids if channel_ids.count(i) > 1})
        if repeated:
            refuse("value_error", "channels", f"listed more than once: {', '.join(repeated)}")
        unknown = (
            ChannelRepository(session).unknown(project, channel_ids)
            if project is not None
            else list(dict.fromkeys(channel_ids))
        )
        if unknown:
            refuse("unknown_channel", "channels", f"not this project's: {', '.join(unknown)}")
    if errors:
        raise RequestValidationError(errors)


class ProjectService:
    async def list_json(
        self, api: ApiContext, subject: AuthSubject, *, limit: int, offset: int
    ) -> bytes:
        """A page of the organisation's projects as JSON, from ``api.org_cache`` while the
        organisation's data keeps the version read at the start of the request (every project
        write bumps it), else from the database."""
        return await api.org_cache.get_or_load(
            ("projects", subject.org_id, limit, offset),
            subject.org_version,
            partial(run_in_threadpool, self._list_json, api, subject, limit, offset),
        )

    def _list_json(self, api: ApiContext, subject: AuthSubject, limit: int, offset: int) -> bytes:
        with api.sessions() as session:
            page = self.list(session, subject, limit=limit, offset=offset)
        return _PROJECT_LIST.dump_json(page)

    def list(
        self, session: Session, subject: AuthSubject, *, limit: int, offset: int
    ) -> ProjectList:
        rows, total = projects(session).list_readable(
            subject.org_id, LIST_COLUMNS, limit=limit, offset=offset
        )
        # Validating plain dicts is several times faster than reading attributes off rows.
        return ProjectList.model_validate(
            {
                "items": [row._asdict() for row in rows],
                "total": total,
                "limit": limit,
                "offset": offset,
            }
        )

    def create(self, session: Session, subject: AuthSubject, data: ProjectCreate) -> ProjectRead:
        project_id = new_id()
        check_references(session, subject, None, data.model_dump(exclude_unset=True))
        project = projects(session).add(
            Project(
                id=project_id,
                org_id=subject.org_id,
                slug=slugify(data.name, project_id),
                created_at=utcnow(),
                **data.model_dump(mode="json"),
            )
        )
        session.commit()
        logger.info("project created org=%s project=%s", subject.org_id, project.id)
        return ProjectRead.model_validate(project)

    def get(self, session: Session, subject: AuthSubject, project_id: str) -> ProjectRead:
        return ProjectRead.model_validate(self._project(session, subject, project_id))

    def update(
        self, session: Session, subject: AuthSubject, project_id: str, data: ProjectUpdate
    ) -> ProjectRead:
        project = self._project(session, subject, project_id)
        values = data.model_dump(mode="json", exclude_unset=True)
        check_references(session, subject, project, values)
        projects(session).update(project, values, utcnow())
        session.commit()
        return ProjectRead.model_validate(project)

    def delete(self, session: Session, subject: AuthSubject, project_id: str) -> None:
        project = self._project(session, subject, project_id)
        projects(session).delete(project)
        session.commit()
        logger.info("project deleted org=%s project=%s", subject.org_id, project_id)

    @staticmethod
    def _project(session: Session, subject: AuthSubject, project_id: str) -> Project:
        return readable_project(session, subject, project_id)


project_service = ProjectService()
