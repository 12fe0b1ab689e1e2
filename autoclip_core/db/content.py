"""Content items and their audit trail.

Every state change of a content item goes through :meth:`ContentRepository.set_state`, so
the state machine (``autoclip_core.states``) is enforced in this one place and every
transition leaves a ``content_events`` row.

Ingestion keeps an item's canonical URL and fingerprint in ``ContentItem.payload`` (the
``SourceItem`` JSON); items stored without them fall back to their URL column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from autoclip_core.db.engine import Repository, aware
from autoclip_core.db.models import ContentEvent, ContentItem, Project, utcnow
from autoclip_core.schemas import SourceItem
from autoclip_core.states import ContentState, check_content_transition

_CHUNK = 500


class UnknownContentError(LookupError):
    pass


@dataclass(frozen=True)
class ContentStatus:
    id: str
    state: ContentState
    reason: str | None
    approved_at: datetime | None
    published_url: str | None

    @classmethod
    def of(cls, c: ContentItem) -> ContentStatus:
        return cls(c.id, ContentState(c.state), c.state_reason, c.approved_at, c.published_url)


@dataclass(frozen=True)
class PushedItem:
    """A content item a webhook pushed in: (id, project slug, source row, stored at)."""

    id: str
    project: str
    source_id: str
    created_at: datetime


def content_or_raise(s: Session, content_id: str) -> ContentItem:
    content = s.get(ContentItem, content_id)
    if content is None:
        raise UnknownContentError(f"no content item {content_id!r}")
    return content


class ContentRepository(Repository):
    # registering ----------------------------------------------------------------------------

    def register_item(self, item: SourceItem) -> bool:
        """Store a new item in ``draft``; False if it was already known."""
        with self._session() as s:
            if s.get(ContentItem, item.id) is not None:
                return False
            _add_draft(s, item, _project(s, item.project))
            return True

    def register_new_items(
        self, items: Iterable[SourceItem], *, source_id: str | None = None
    ) -> list[str]:
        """Store the items not yet known in ``draft``, in one transaction; their ids.

        ``source_id`` names the ``sources`` row that pushed them (webhook). When a concurrent
        writer stored one of the items first, the batch is retried once without it.
        """
        items = list(items)
        for attempt in (1, 2):
            try:
                return self._register(items, source_id)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _register(self, items: list[SourceItem], source_id: str | None) -> list[str]:
        known = self.known_item_ids(item.id for item in items)
        added: list[str] = []
        with self._session() as s:
            projects: dict[str, Project] = {}
            for item in items:
                if item.id in known:
                    continue
                if item.project not in projects:
                    projects[item.project] = _project(s, item.project)
                _add_draft(s, item, projects[item.project], source_id)
                known.add(item.id)
                added.append(item.id)
        return added

    # one item -------------------------------------------------------------------------------

    def source_item(self, content_id: str) -> SourceItem:
        with self._session() as s:
            return SourceItem.model_validate(content_or_raise(s, content_id).payload)

    def status(self, content_id: str) -> ContentStatus:
        with self._session() as s:
            return ContentStatus.of(content_or_raise(s, content_id))

    def set_state(self, content_id: str, target: ContentState, reason: str | None = None) -> None:
        """Move the item to ``target`` if the state machine allows it, with an audit event."""
        with self._session() as s:
            content = content_or_raise(s, content_id)
            current = ContentState(content.state)
            if current == target:
                content.state_reason = reason
                return
            check_content_transition(current, target)
            content.state = target
            content.state_reason = reason
            content.events.append(ContentEvent(from_state=current, to_state=target, reason=reason))

    def update_content(
        self, content_id: str, *, language: str | None = None, video_key: str | None = None
    ) -> None:
        with self._session() as s:
            c = content_or_raise(s, content_id)
            if language is not None:
                c.language = language
            if video_key is not None:
                c.video_key = video_key

    def mark_published(self, content_id: str, url: str) -> None:
        with self._session() as s:
            content_or_raise(s, content_id).published_url = url

    def approve(self, content_id: str, by: str) -> None:
        with self._session() as s:
            c = content_or_raise(s, content_id)
            if c.state not in (ContentState.READY, ContentState.FAILED_UPLOAD):
                raise ValueError(f"only a ready item can be approved; {content_id} is {c.state}")
            c.approved_at = utcnow()
            c.approved_by = by

    def events(self, content_id: str) -> list[tuple[str | None, str, str | None]]:
        with self._session() as s:
            return [
                (e.from_state, e.to_state, e.reason) for e in content_or_raise(s, content_id).events
            ]

    # many items -----------------------------------------------------------------------------

    def approved_awaiting_publication(self) -> list[ContentStatus]:
        with self._session() as s:
            rows = s.scalars(
                select(ContentItem).where(
                    ContentItem.state == ContentState.READY, ContentItem.approved_at.is_not(None)
                )
            )
            return [ContentStatus.of(c) for c in rows]

    def known_item_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` are already stored."""
        wanted = list(dict.fromkeys(ids))
        known: set[str] = set()
        with self._session() as s:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                known.update(s.scalars(select(ContentItem.id).where(ContentItem.id.in_(chunk))))
        return known

    def dedupe_rows(
        self, project: str, since: datetime
    ) -> list[tuple[str, str, str | None, str | None]]:
        """(id, url, canonical URL, fingerprint) of a project's items stored since ``since``."""
        with self._session() as s:
            rows = s.execute(
                select(
                    ContentItem.id,
                    ContentItem.url,
                    ContentItem.payload["canonical_url"].as_string(),
                    ContentItem.payload["fingerprint"].as_string(),
                )
                .join(Project, ContentItem.project_id == Project.id)
                .where(Project.slug == project, ContentItem.created_at >= since)
                .order_by(ContentItem.created_at)
            ).all()
        return [(i, url, canonical, fp) for i, url, canonical, fp in rows]

    def pushed_items_since(self, since: datetime, *, limit: int = 1000) -> list[PushedItem]:
        """Items pushed by a webhook and stored at or after ``since``, oldest first."""
        with self._session() as s:
            rows = s.execute(
                select(ContentItem.id, Project.slug, ContentItem.source_id, ContentItem.created_at)
                .join(Project, ContentItem.project_id == Project.id)
                .where(ContentItem.source_id.is_not(None), ContentItem.created_at >= since)
                .order_by(ContentItem.created_at, ContentItem.id)
                .limit(limit)
            ).all()
        return [PushedItem(i, slug, str(sid), aware(at)) for i, slug, sid, at in rows]

    def published_item_ids(self, project: str) -> list[str]:
        """A project's items in ``published``, oldest first."""
        with self._session() as s:
            return list(
                s.scalars(
                    select(ContentItem.id)
                    .join(Project, ContentItem.project_id == Project.id)
                    .where(Project.slug == project, ContentItem.state == ContentState.PUBLISHED)
                    .order_by(ContentItem.created_at, ContentItem.id)
                )
            )

    def items_in_states(
        self, project: str, states: Iterable[ContentState], since: datetime
    ) -> list[tuple[SourceItem, datetime]]:
        """A project's items in ``states`` stored since ``since``: (item, stored at)."""
        with self._session() as s:
            rows = s.execute(
                select(ContentItem.payload, ContentItem.created_at)
                .join(Project, ContentItem.project_id == Project.id)
                .where(
                    Project.slug == project,
                    ContentItem.state.in_([str(state) for state in states]),
                    ContentItem.created_at >= since,
                )
                .order_by(ContentItem.created_at)
            ).all()
        return [(SourceItem.model_validate(payload), created) for payload, created in rows]


def _project(s: Session, slug: str) -> Project:
    project = s.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        raise LookupError(f"unknown project {slug!r}")
    return project


def _add_draft(
    s: Session, item: SourceItem, project: Project, source_id: str | None = None
) -> None:
    """A new content item in ``draft``, with the first entry of its audit trail."""
    content = ContentItem(
        id=item.id,
        project_id=project.id,
        source_id=source_id,
        source=item.source,
        url=item.url,
        title=item.title,
        payload=item.model_dump(mode="json"),
        state=ContentState.DRAFT,
    )
    s.add(content)
    s.add(ContentEvent(content=content, from_state=None, to_state=ContentState.DRAFT))
