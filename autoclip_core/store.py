"""The app database as the pipeline sees it: content items, projects, jobs and states.

Every state change goes through here, so the state machine is enforced in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from autoclip_core.models import ContentEvent, ContentItem, Job, Project, utcnow
from autoclip_core.schemas import SourceItem
from autoclip_core.states import (
    ContentState,
    JobState,
    check_content_transition,
    check_job_transition,
)

MIGRATIONS = Path(__file__).parent / "migrations"


JOB_ORDER = {JobState.PENDING: 0, JobState.RUNNING: 1, JobState.COMPLETED: 2, JobState.FAILED: 2}


class UnknownContentError(LookupError):
    pass


@dataclass(frozen=True)
class ProjectSettings:
    id: str
    slug: str
    review_required: bool
    blocked_terms: tuple[str, ...]
    default_template: str
    channels: tuple[str, ...]


@dataclass(frozen=True)
class ContentStatus:
    id: str
    state: ContentState
    reason: str | None
    approved_at: datetime | None
    published_url: str | None


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class ContentStore:
    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> None:
        """Bring the schema to the latest Alembic revision."""
        command.upgrade(alembic_config(self.url), "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # projects -----------------------------------------------------------------------------

    def ensure_project(
        self,
        slug: str,
        *,
        name: str | None = None,
        review_required: bool | None = None,
        blocked_terms: list[str] | None = None,
    ) -> ProjectSettings:
        with self.session() as s:
            project = s.scalar(select(Project).where(Project.slug == slug))
            if project is None:
                project = Project(
                    slug=slug, name=name or slug, blocked_terms=[], channels=["local"]
                )
                s.add(project)
            if review_required is not None:
                project.review_required = review_required
            if blocked_terms is not None:
                project.blocked_terms = list(blocked_terms)
            s.flush()
            return _project_settings(project)

    def project_of(self, content_id: str) -> ProjectSettings:
        with self.session() as s:
            return _project_settings(self._content(s, content_id).project)

    # content items ------------------------------------------------------------------------

    def register_item(self, item: SourceItem) -> bool:
        """Store a new item in ``draft``; False if it was already known."""
        with self.session() as s:
            if s.get(ContentItem, item.id) is not None:
                return False
            project = s.scalar(select(Project).where(Project.slug == item.project))
            if project is None:
                raise LookupError(f"unknown project {item.project!r}")
            _add_draft(s, item, project)
            return True

    def source_item(self, content_id: str) -> SourceItem:
        with self.session() as s:
            return SourceItem.model_validate(self._content(s, content_id).payload)

    def status(self, content_id: str) -> ContentStatus:
        with self.session() as s:
            c = self._content(s, content_id)
            return ContentStatus(
                c.id, ContentState(c.state), c.state_reason, c.approved_at, c.published_url
            )

    def set_state(self, content_id: str, target: ContentState, reason: str | None = None) -> None:
        with self.session() as s:
            self._transition(self._content(s, content_id), target, reason)

    def update_content(
        self, content_id: str, *, language: str | None = None, video_key: str | None = None
    ) -> None:
        with self.session() as s:
            c = self._content(s, content_id)
            if language is not None:
                c.language = language
            if video_key is not None:
                c.video_key = video_key

    def mark_published(self, content_id: str, url: str) -> None:
        with self.session() as s:
            c = self._content(s, content_id)
            c.published_url = url

    def approve(self, content_id: str, by: str) -> None:
        with self.session() as s:
            c = self._content(s, content_id)
            if c.state not in (ContentState.READY, ContentState.FAILED_UPLOAD):
                raise ValueError(f"only a ready item can be approved; {content_id} is {c.state}")
            c.approved_at = utcnow()
            c.approved_by = by

    def approved_awaiting_publication(self) -> list[ContentStatus]:
        with self.session() as s:
            rows = s.scalars(
                select(ContentItem).where(
                    ContentItem.state == ContentState.READY, ContentItem.approved_at.is_not(None)
                )
            )
            return [
                ContentStatus(
                    c.id, ContentState(c.state), c.state_reason, c.approved_at, c.published_url
                )
                for c in rows
            ]

    def events(self, content_id: str) -> list[tuple[str | None, str, str | None]]:
        with self.session() as s:
            return [
                (e.from_state, e.to_state, e.reason) for e in self._content(s, content_id).events
            ]

    # jobs -----------------------------------------------------------------------------------

    def record_job(
        self,
        *,
        run_id: str,
        content_id: str,
        job_name: str,
        state: JobState,
        error: str | None = None,
    ) -> bool:
        """Create or advance the job row of a Dagster run; True if its state changed.

        Run-status sensors may see a run's events out of order (a ``queued`` tick after the
        ``started`` one): a stale, earlier state is ignored, a missed one is filled in.
        """
        with self.session() as s:
            job = s.scalar(select(Job).where(Job.run_id == run_id))
            if job is None:
                job = Job(
                    run_id=run_id, content_id=content_id, job_name=job_name, state=JobState.PENDING
                )
                s.add(job)
                s.flush()
                if state == JobState.PENDING:
                    return True
            current = JobState(job.state)
            if JOB_ORDER[state] <= JOB_ORDER[current]:
                return False
            if current == JobState.PENDING and state != JobState.RUNNING:
                current = JobState.RUNNING  # the start event was missed
            check_job_transition(current, state)
            job.state = state
            job.started_at = job.started_at or utcnow()
            if state in (JobState.COMPLETED, JobState.FAILED):
                job.finished_at = utcnow()
                job.error = error
            return True

    def jobs(self, content_id: str) -> list[tuple[str, str, str, str | None]]:
        with self.session() as s:
            return [
                (j.run_id, j.job_name, j.state, j.error) for j in self._content(s, content_id).jobs
            ]

    # ingestion (autoclip_core.ingest) ----------------------------------------------------------
    # Canonical URL and fingerprint live in ContentItem.payload (the SourceItem JSON); no
    # schema change. Items stored before ingestion set them fall back to their URL column.

    def known_item_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` are already stored."""
        wanted = list(dict.fromkeys(ids))
        known: set[str] = set()
        with self.session() as s:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                known.update(s.scalars(select(ContentItem.id).where(ContentItem.id.in_(chunk))))
        return known

    def dedupe_rows(
        self, project: str, since: datetime
    ) -> list[tuple[str, str, str | None, str | None]]:
        """(id, url, canonical URL, fingerprint) of a project's items stored since ``since``."""
        with self.session() as s:
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

    def register_new_items(self, items: Iterable[SourceItem]) -> list[str]:
        """Store the items not yet known in ``draft``, in one transaction; their ids."""
        items = list(items)
        known = self.known_item_ids(item.id for item in items)
        added: list[str] = []
        with self.session() as s:
            projects: dict[str, Project] = {}
            for item in items:
                if item.id in known:
                    continue
                project = projects.get(item.project)
                if project is None:
                    project = s.scalar(select(Project).where(Project.slug == item.project))
                    if project is None:
                        raise LookupError(f"unknown project {item.project!r}")
                    projects[item.project] = project
                _add_draft(s, item, project)
                known.add(item.id)
                added.append(item.id)
        return added

    def items_in_states(
        self, project: str, states: Iterable[ContentState], since: datetime
    ) -> list[tuple[SourceItem, datetime]]:
        """A project's items in ``states`` stored since ``since``: (item, stored at)."""
        with self.session() as s:
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

    # internals ------------------------------------------------------------------------------

    @staticmethod
    def _content(s: Session, content_id: str) -> ContentItem:
        content = s.get(ContentItem, content_id)
        if content is None:
            raise UnknownContentError(f"no content item {content_id!r}")
        return content

    @staticmethod
    def _transition(content: ContentItem, target: ContentState, reason: str | None) -> None:
        current = ContentState(content.state)
        if current == target:
            content.state_reason = reason
            return
        check_content_transition(current, target)
        content.state = target
        content.state_reason = reason
        content.events.append(ContentEvent(from_state=current, to_state=target, reason=reason))


def _add_draft(s: Session, item: SourceItem, project: Project) -> None:
    """A new content item in ``draft``, with the first entry of its audit trail."""
    content = ContentItem(
        id=item.id,
        project_id=project.id,
        source=item.source,
        url=item.url,
        title=item.title,
        payload=item.model_dump(mode="json"),
        state=ContentState.DRAFT,
    )
    s.add(content)
    s.add(ContentEvent(content=content, from_state=None, to_state=ContentState.DRAFT))


def _project_settings(p: Project) -> ProjectSettings:
    return ProjectSettings(
        p.id,
        p.slug,
        p.review_required,
        tuple(p.blocked_terms or ()),
        p.default_template,
        tuple(p.channels or ("local",)),
    )
