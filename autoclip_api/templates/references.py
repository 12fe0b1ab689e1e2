"""Whether a project (or a content item) may render with a template id: a built-in, or one of
its organisation's templates that has every element the pipeline fills."""

from __future__ import annotations

from sqlalchemy.orm import Session

from autoclip_api.core.types import is_hex_id
from autoclip_core.db.templates import TemplateRepository
from autoclip_core.render.templates import BUILTIN_TEMPLATES
from autoclip_core.template_checks import is_builtin, missing_pipeline_elements


def template_reference_problem(session: Session, org_id: str, template_id: str) -> str | None:
    """Why a project (or an item) of the organisation cannot render with ``template_id``
    (None: it can)."""
    if is_builtin(template_id):
        return None
    row = (
        TemplateRepository(session).get_readable(org_id, template_id)
        if is_hex_id(template_id)
        else None
    )
    if row is None:
        builtins = ", ".join(BUILTIN_TEMPLATES)
        return f"unknown template {template_id!r}: a built-in ({builtins}) or one of yours"
    missing = missing_pipeline_elements(row.source)
    if missing:
        return f"template {template_id!r} lacks the elements the pipeline fills: " + ", ".join(
            missing
        )
    return None
