"""Content items and their audit trail.

Every state change of a content item goes through :meth:`ContentRepository.set_state` (and
the review decisions, which change state too), so the state machine (``autoclip_core.states``)
is enforced in this one place and every transition leaves a ``content_events`` row.

Ingestion keeps an item's canonical URL and fingerprint in ``ContentItem.payload`` (the
``SourceItem`` JSON); items stored without them fall back to their URL column.

The API reads items through :meth:`ContentRepository.get_readable_statement`: an item is
readable by the organisation that owns its project, and by nobody else. Every write of an
item's row, from any process, marks that organisation's data changed
(``autoclip_core.cache_versions``): the API serves its lists of items from a cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    Table,
    and_,
    delete,
    event,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapper, Session, object_session

from autoclip_core.cache_versions import changed, org_scope
from autoclip_core.db.channels import publish_targets
from autoclip_core.db.engine import Repository, aware
from autoclip_core.db.models import ContentEvent, ContentItem, ContentMedia, Project, utcnow
from autoclip_core.schemas import Script, SourceItem
from autoclip_core.states import ContentState, check_content_transition

_CHUNK = 500
CONTENT_ITEMS = cast(Table, ContentItem.__table__)


class UnknownContentError(LookupError):
    pass


class ContentStateError(ValueError):
    """The item is not in a state that allows this; ``state`` is the one it is in."""

    def __init__(self, message: str, state: ContentState) -> None:
        super().__init__(message)
        self.state = state


@dataclass(frozen=True)
class Route:
    template_id: str
    channels: list[str]
    """Publish targets: the channels' slugs."""


@dataclass(frozen=True)
class ContentPage:
    """Items newest first, and where the next page starts (None: this was the last)."""

    rows: list[Row[Any]]
    next_after: tuple[datetime, str] | None


@dataclass(frozen=True)
class ContentFilter:
    project_id: str | None = None
    state: ContentState | None = None
    language: str | None = None
    q: str | None = None
    """Words the title contains (case-insensitive)."""


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
            if ContentState(content.state) == target:
                content.state_reason = reason
                return
            _move(content, target, reason)

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
        """The item's link; a ready item (a publish run's) becomes ``published`` at once, so
        a creator sees it as soon as the upload is done, not when the run-status sensor
        next looks. An item still ``processing`` (published by its own content run) moves
        when the sensor records the run: ready, then published."""
        with self._session() as s:
            content = content_or_raise(s, content_id)
            content.published_url = url
            if ContentState(content.state) in {ContentState.READY, ContentState.FAILED_UPLOAD}:
                _move(content, ContentState.PUBLISHED, None)

    def approve(self, content_id: str, by: str, note: str | None = None) -> datetime:
        """Record a reviewer's approval of a ready item; when it was approved."""
        with self._session() as s:
            c = content_or_raise(s, content_id)
            _require(c, ContentState.READY, "only a ready item can be approved")
            c.approved_at = utcnow()
            c.approved_by = by
            c.rejected_at = c.rejected_by = None
            c.review_note = note
            return c.approved_at

    def reject(self, content_id: str, by: str, reason: str) -> None:
        """A reviewer sends a ready item back to ``draft`` with the reason (nothing is
        published)."""
        with self._session() as s:
            c = content_or_raise(s, content_id)
            _require(c, ContentState.READY, "only a ready item can be rejected")
            c.approved_at = c.approved_by = None
            c.rejected_at = utcnow()
            c.rejected_by = by
            c.review_note = reason
            _move(c, ContentState.DRAFT, reason)

    def clear_approval(self, content_id: str) -> None:
        """A new video needs a new review."""
        with self._session() as s:
            c = content_or_raise(s, content_id)
            c.approved_at = c.approved_by = None

    # what the pipeline made, and a person's edits -------------------------------------------

    def record_script(self, content_id: str, script: Script) -> None:
        with self._session() as s:
            content_or_raise(s, content_id).script = script.model_dump(mode="json")

    def script_override(self, content_id: str) -> Script | None:
        """The script a person edited, which the pipeline uses as it is (None: write one)."""
        with self._session() as s:
            override = content_or_raise(s, content_id).script_override
            return None if override is None else Script.model_validate(override)

    def route(self, content_id: str) -> Route:
        """Where the item goes: its own template and channels when set, else its project's
        (the channels as publish targets)."""
        with self._session() as s:
            c = content_or_raise(s, content_id)
            return Route(
                c.template_id or c.project.template_id,
                publish_targets(s, c.project, c.channels),
            )

    def events(self, content_id: str) -> list[tuple[str | None, str, str | None]]:
        with self._session() as s:
            return [
                (e.from_state, e.to_state, e.reason) for e in content_or_raise(s, content_id).events
            ]

    # many items -----------------------------------------------------------------------------

    def approved_awaiting_publication(self) -> list[ContentStatus]:
        """Ready, approved items of the sources file's projects. An organisation's items are
        approved through the API, which requests their publication itself (or leaves it to a
        person when their channels wait for one)."""
        with self._session() as s:
            rows = s.scalars(
                select(ContentItem)
                .join(Project, ContentItem.project_id == Project.id)
                .where(
                    ContentItem.state == ContentState.READY,
                    ContentItem.approved_at.is_not(None),
                    Project.org_id.is_(None),
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

    # the API: every read starts at the tenant scope -------------------------------------------

    @staticmethod
    def get_readable_statement(org_id: str | None) -> Select[tuple[ContentItem]]:
        """THE tenant scope of content items: those of the projects organisation ``org_id``
        owns. Every read, change and delete of an item through the API starts here, so another
        organisation's item is a 404 exactly like a missing one; items of the sources file's
        projects (no organisation) are never readable through the API."""
        statement = select(ContentItem).join(Project, ContentItem.project_id == Project.id)
        if org_id is None:
            return statement.where(false())
        return statement.where(Project.org_id == org_id)

    def get_readable(
        self, org_id: str | None, content_id: str, *, for_update: bool = False
    ) -> ContentItem | None:
        """``for_update``: lock the row until the transaction ends (two requests that would
        both start a run of the item are served one after the other)."""
        statement = self.get_readable_statement(org_id).where(ContentItem.id == content_id)
        if for_update:
            statement = statement.with_for_update(of=ContentItem)
        with self._session() as s:
            return s.scalar(statement)

    def list_readable(
        self,
        org_id: str | None,
        where: ContentFilter,
        columns: Sequence[str],
        *,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> ContentPage:
        """A page of plain rows (the named columns: no ORM objects, and no article text or
        script unless asked for), newest first, starting after the (created at, id) ``after``."""
        selected = [CONTENT_ITEMS.c[name] for name in dict.fromkeys([*columns, "created_at", "id"])]
        statement = self.get_readable_statement(org_id).with_only_columns(*selected)
        conditions: list[ColumnElement[bool]] = []
        if where.project_id is not None:
            conditions.append(ContentItem.project_id == where.project_id)
        if where.state is not None:
            conditions.append(ContentItem.state == where.state)
        if where.language is not None:
            conditions.append(ContentItem.language == where.language)
        if where.q:
            conditions.append(
                func.lower(ContentItem.title).contains(where.q.lower(), autoescape=True)
            )
        if after is not None:
            at, last_id = after
            conditions.append(
                or_(
                    ContentItem.created_at < at,
                    and_(ContentItem.created_at == at, ContentItem.id < last_id),
                )
            )
        statement = (
            statement.where(*conditions)
            .order_by(ContentItem.created_at.desc(), ContentItem.id.desc())
            .limit(limit + 1)
        )
        with self._session() as s:
            rows = list(s.execute(statement).all())
        if len(rows) <= limit:
            return ContentPage(rows, None)
        last = rows[limit - 1]
        return ContentPage(rows[:limit], (aware(last.created_at), last.id))

    def create(
        self,
        project: Project,
        item: SourceItem,
        *,
        template_id: str | None = None,
        channels: list[str] | None = None,
    ) -> ContentItem:
        """A new item of ``project`` (``item.project`` is its slug) in ``draft``, with its own
        template and channels when given."""
        with self._session() as s:
            content = _add_draft(s, item, project)
            content.template_id = template_id
            content.channels = channels
            s.flush()
            return content

    def edit(self, content: ContentItem, values: dict[str, Any]) -> bool:
        """Set these of the API's editable columns (``title``, ``template_id``, ``channels``,
        ``script_override``); whether any changed."""
        changed = False
        with self._session() as s:
            for column, value in values.items():
                if column not in _EDITABLE:
                    raise ValueError(f"{column} cannot be edited")
                if getattr(content, column) != value:
                    setattr(content, column, value)
                    changed = True
            if changed:
                content.updated_at = utcnow()
                s.add(content)
        return changed

    def delete(self, content: ContentItem) -> list[str]:
        """Delete the item (its jobs, events, media records and uploads go with it); the
        storage keys of its media that no other item uses, for the caller to remove."""
        with self._session() as s:
            keys = set(
                s.scalars(
                    select(ContentMedia.storage_key).where(ContentMedia.content_id == content.id)
                )
            )
            shared = (
                set(
                    s.scalars(
                        select(ContentMedia.storage_key).where(
                            ContentMedia.storage_key.in_(sorted(keys)),
                            ContentMedia.content_id != content.id,
                        )
                    )
                )
                if keys
                else set()
            )
            s.execute(delete(ContentItem).where(ContentItem.id == content.id))
            _changed(s, s.connection(), content.project_id)  # a bulk delete: no ORM event
        return sorted(keys - shared)


_EDITABLE = frozenset({"title", "template_id", "channels", "script_override"})


_PROJECT_ORGS = "autoclip.project_orgs"


@event.listens_for(ContentItem, "after_insert")
@event.listens_for(ContentItem, "after_update")
@event.listens_for(ContentItem, "after_delete")
def _row_written(_mapper: Mapper[Any], connection: Connection, content: ContentItem) -> None:
    """Every flushed write of an item's row, whichever code made it."""
    session = object_session(content)
    if session is not None:
        _changed(session, connection, content.project_id)


def _changed(session: Session, connection: Connection, project_id: str) -> None:
    """Marks the data of the project's organisation changed (the sources file's projects have
    none: their items are in no API answer). A project's organisation is looked up once per
    session."""
    orgs: dict[str, str | None] = session.info.setdefault(_PROJECT_ORGS, {})
    if project_id not in orgs:
        orgs[project_id] = connection.scalar(
            select(Project.org_id).where(Project.id == project_id)
        )
    org_id = orgs[project_id]
    if org_id is not None:
        changed(session, org_scope(org_id))


def _require(content: ContentItem, state: ContentState, message: str) -> None:
    current = ContentState(content.state)
    if current != state:
        raise ContentStateError(f"{message}; {content.id} is {current}", current)


def _move(content: ContentItem, target: ContentState, reason: str | None) -> None:
    """The one place a state is written: checked against the machine, with an audit event."""
    current = ContentState(content.state)
    check_content_transition(current, target)
    content.state = target
    content.state_reason = reason
    content.events.append(ContentEvent(from_state=current, to_state=target, reason=reason))


def _project(s: Session, slug: str) -> Project:
    project = s.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        raise LookupError(f"unknown project {slug!r}")
    return project


def _add_draft(
    s: Session, item: SourceItem, project: Project, source_id: str | None = None
) -> ContentItem:
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
    return content
