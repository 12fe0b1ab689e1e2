from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from autoclip_api.core.types import is_hex_id
from autoclip_core.models import Source


class SourceRepository:
    """Sources of one project. Callers pass a project they got from
    ``ProjectRepository.get`` — the tenant scope — so another organisation's sources are
    never reached."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def list(self, project_id: str) -> Sequence[Source]:
        return self.session.scalars(
            select(Source)
            .where(Source.project_id == project_id, Source.origin == "api")
            .order_by(Source.created_at, Source.id)
        ).all()

    def get(self, project_id: str, source_id: str) -> Source | None:
        if not is_hex_id(source_id):
            return None
        return self.session.scalar(
            select(Source).where(
                Source.id == source_id, Source.project_id == project_id, Source.origin == "api"
            )
        )

    def add(self, source: Source) -> Source:
        self.session.add(source)
        self.session.flush()
        return source

    def delete(self, source: Source) -> None:
        """Deletes in SQL; items it pushed stay (their ``source_id`` becomes NULL)."""
        self.session.execute(delete(Source).where(Source.id == source.id))
