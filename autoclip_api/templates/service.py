"""Templates: the engine's built-ins (read-only) and the organisation's own, checked on every
write by ``autoclip_core.template_checks`` (size and element count first, then the sources
and the engine's model) and previewed by rendering them (``preview.py``)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from functools import partial
from typing import Any

from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from autoclip_api.auth.subject import AuthSubject
from autoclip_api.context import ApiContext
from autoclip_api.core.errors import ApiError, Conflict, Forbidden
from autoclip_api.projects.service import readable_or_404
from autoclip_api.templates.preview import Preview, as_the_pipeline_fills
from autoclip_api.templates.schemas import (
    PreviewFormat,
    TemplateCreate,
    TemplateList,
    TemplateRead,
    TemplateUpdate,
)
from autoclip_core.cache_versions import changed, org_scope
from autoclip_core.db.models import VideoTemplate, new_id, utcnow
from autoclip_core.db.templates import TemplateRepository
from autoclip_core.render.engine import RenderError
from autoclip_core.render.renderscript import TemplateError
from autoclip_core.render.templates import BUILTIN_TEMPLATES, apply_modifications, load_template
from autoclip_core.template_checks import (
    TemplateTooLargeError,
    check_size,
    is_builtin,
    missing_pipeline_elements,
    template_problems,
)

logger = logging.getLogger("autoclip_api.templates")

TEMPLATE_NOT_FOUND = "Template not found"
BUILTIN_READ_ONLY = (
    "Built-in templates are read-only: create a template of your own from its source"
)
MAX_MODIFICATIONS = 200
_PATH_STEP = re.compile(r"\[(\d+)\]|\[('(?:[^'\\]|\\.)*')\]|([^.\[\]]+)")


class PayloadTooLarge(ApiError):
    status_code = 413
    default_detail = "Request body too large"


class Unprocessable(ApiError):
    """422 for a preview whose template the engine cannot render (the engine's message)."""

    status_code = 422
    default_detail = "The template cannot be rendered"


def templates(session: Session) -> TemplateRepository:
    return TemplateRepository(
        session, on_change=lambda org_id: changed(session, org_scope(org_id))
    )


def path_steps(path: str) -> list[str | int]:
    """The engine's JSON path (``elements[2].animations[0].type``) as pointer steps."""
    steps: list[str | int] = []
    for index, quoted, key in _PATH_STEP.findall(path):
        if index:
            steps.append(int(index))
        elif quoted:
            steps.append(quoted[1:-1])
        else:
            steps.append(key)
    return steps


def invalid(location: str, prefix: Sequence[str | int], problems: Sequence[Any]) -> Exception:
    """A 422 whose errors point at each problem inside the body or query part."""
    return RequestValidationError(
        [
            {
                "type": "template_invalid",
                "loc": (location, *prefix, *path_steps(p.path)),
                "msg": p.message,
            }
            for p in problems
        ]
    )


def check_source(source: dict[str, Any]) -> None:
    """413 over the size limit, else 422 naming each problem's JSON path under ``source``."""
    try:
        check_size(source)
    except TemplateTooLargeError as exc:
        raise PayloadTooLarge(str(exc)) from None
    problems = template_problems(source)
    if problems:
        raise invalid("body", ["source"], problems)


def _read(
    template_id: str, source: dict[str, Any], *, builtin: bool, name: str,
    description: str | None = None, row: VideoTemplate | None = None,
) -> TemplateRead:  # fmt: skip
    missing = missing_pipeline_elements(source)
    return TemplateRead(
        id=template_id,
        builtin=builtin,
        name=name,
        description=description,
        width=int(source.get("width") or 0),
        height=int(source.get("height") or 0),
        pipeline_ready=not missing,
        missing_elements=missing,
        source=source,
        created_at=row.created_at if row else None,
        updated_at=row.updated_at if row else None,
    )


def builtin_read(name: str) -> TemplateRead:
    return _read(name, load_template(name), builtin=True, name=name.capitalize())


def row_read(row: VideoTemplate) -> TemplateRead:
    return _read(
        row.id, dict(row.source), builtin=False, name=row.name, description=row.description,
        row=row,
    )  # fmt: skip


def parse_modifications(raw: str | None) -> dict[str, Any]:
    """The ``modifications`` query parameter: a JSON object of ``"Element.property": value``."""
    if raw is None:
        return {}

    def refuse(message: str) -> RequestValidationError:
        return RequestValidationError(
            [{"type": "value_error", "loc": ("query", "modifications"), "msg": message}]
        )

    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise refuse(f"not JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(value, dict):
        raise refuse('must be a JSON object of "Element.property": value')
    if len(value) > MAX_MODIFICATIONS:
        raise refuse(f"at most {MAX_MODIFICATIONS} modifications")
    return value


class TemplateService:
    def list(
        self, session: Session, subject: AuthSubject, *, limit: int, offset: int
    ) -> TemplateList:
        builtins = [builtin_read(name) for name in BUILTIN_TEMPLATES]
        own_offset = max(offset - len(builtins), 0)
        shown = builtins[offset : offset + limit]
        rows, total = templates(session).list_readable(
            subject.org_id, limit=limit - len(shown), offset=own_offset
        )
        return TemplateList(
            items=[*shown, *(row_read(r) for r in rows)],
            total=len(builtins) + total,
            limit=limit,
            offset=offset,
        )

    def get(self, session: Session, subject: AuthSubject, template_id: str) -> TemplateRead:
        if is_builtin(template_id):
            return builtin_read(template_id)
        return row_read(self._own(session, subject, template_id))

    def source(self, session: Session, subject: AuthSubject, template_id: str) -> dict[str, Any]:
        if is_builtin(template_id):
            return load_template(template_id)
        return dict(self._own(session, subject, template_id).source)

    def create(
        self, session: Session, subject: AuthSubject, data: TemplateCreate
    ) -> TemplateRead:
        check_source(data.source)
        row = templates(session).add(
            VideoTemplate(
                id=new_id(),
                org_id=subject.org_id,
                name=data.name,
                description=data.description,
                source=data.source,
                created_at=utcnow(),
            )
        )
        session.commit()
        logger.info("template created org=%s template=%s", subject.org_id, row.id)
        return row_read(row)

    def update(
        self, session: Session, subject: AuthSubject, template_id: str, data: TemplateUpdate
    ) -> TemplateRead:
        row = self._writable(session, subject, template_id)
        values = data.model_dump(exclude_unset=True)
        if "source" in values:
            check_source(values["source"])
            if templates(session).used_by(row):
                missing = missing_pipeline_elements(values["source"])
                if missing:
                    raise RequestValidationError(
                        [{"type": "template_invalid", "loc": ("body", "source", "elements"),
                          "msg": "projects render with this template; it would lack the "
                          "elements the pipeline fills: " + ", ".join(missing)}]
                    )  # fmt: skip
        templates(session).update(row, values, utcnow())
        session.commit()
        return row_read(row)

    def delete(self, session: Session, subject: AuthSubject, template_id: str) -> None:
        row = self._writable(session, subject, template_id)
        used = templates(session).used_by(row)
        if used:
            raise Conflict(
                f"Projects render with this template ({', '.join(used)}): give them another "
                "template_id first"
            )
        templates(session).delete(row)
        session.commit()
        logger.info("template deleted org=%s template=%s", subject.org_id, template_id)

    async def preview(
        self,
        api: ApiContext,
        source: dict[str, Any],
        modifications: dict[str, Any],
        *,
        at: float | None,
        fmt: PreviewFormat,
    ) -> Preview:
        try:
            data = apply_modifications(as_the_pipeline_fills(source), modifications)
        except TemplateError as exc:
            raise RequestValidationError(
                [{"type": "template_invalid", "loc": ("query", "modifications"),
                  "msg": str(exc)}]
            ) from None  # fmt: skip
        problems = template_problems(data)
        if problems:
            raise invalid("query", ["modifications"], problems)
        try:
            return await api.previews.preview(data, at=at, fmt=fmt)
        except TemplateError as exc:
            raise Unprocessable(f"The template cannot be rendered: {exc}") from None
        except RenderError as exc:
            logger.warning("preview render failed: %s", exc)
            raise Unprocessable("The template could not be rendered (see the server log)") from None

    def _own(self, session: Session, subject: AuthSubject, template_id: str) -> VideoTemplate:
        return readable_or_404(
            template_id, partial(templates(session).get_readable, subject.org_id),
            TEMPLATE_NOT_FOUND,
        )  # fmt: skip

    def _writable(
        self, session: Session, subject: AuthSubject, template_id: str
    ) -> VideoTemplate:
        if is_builtin(template_id):
            raise Forbidden(BUILTIN_READ_ONLY)
        return self._own(session, subject, template_id)


template_service = TemplateService()
