"""The app database as the pipeline sees it: content items, projects, jobs and states.

Every state change goes through here, so the state machine is enforced in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from autoclip_core.models import (
    ContentEvent,
    ContentItem,
    Job,
    PerformanceSnapshot,
    Project,
    Source,
    utcnow,
)
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
    timezone: str = "UTC"
    auto_generate: bool = False


@dataclass(frozen=True)
class SourceHealth:
    """How a source is doing (columns of ``sources``); written after each poll or push."""

    last_checked_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_warning: str | None = None
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None
    last_new: int = 0
    last_duplicates: int = 0
    total_new: int = 0


HEALTH_COLUMNS = tuple(f.name for f in fields(SourceHealth))


@dataclass(frozen=True)
class SourceDefinition:
    """What a source is (a row of ``sources`` without its health)."""

    id: str
    kind: str
    name: str
    url: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    poll_interval_s: float | None = None
    enabled: bool = True


@dataclass(frozen=True)
class FileProject:
    """A project of the sources file with its sources, as mirrored into the database."""

    slug: str
    name: str | None
    timezone: str
    auto_generate: bool
    sources: tuple[SourceDefinition, ...]


@dataclass(frozen=True)
class SourceRecord:
    definition: SourceDefinition
    project: ProjectSettings
    origin: str
    health: SourceHealth
    secret_nonce: str | None = None

    @property
    def id(self) -> str:
        return self.definition.id


@dataclass(frozen=True)
class PushedItem:
    """A content item a webhook pushed in: (id, project slug, source row, stored at)."""

    id: str
    project: str
    source_id: str
    created_at: datetime


@dataclass(frozen=True)
class PerformanceSample:
    """One channel's numbers for a published video at ``captured_at``."""

    channel: str
    url: str | None
    published_at: datetime | None
    views: int
    likes: int
    comments: int
    shares: int
    watch_time_s: float
    captured_at: datetime


@dataclass(frozen=True)
class ContentStatus:
    id: str
    state: ContentState
    reason: str | None
    approved_at: datetime | None
    published_url: str | None


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """Stored times are UTC; SQLite hands them back naive."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        """A store on the database at ``url``; with ``engine``, on that (shared) engine."""
        if engine is None and url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine = engine if engine is not None else make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def on_engine(cls, engine: Engine) -> ContentStore:
        """A store sharing an existing engine (the API's): no pool of its own."""
        return cls(engine.url.render_as_string(hide_password=False), engine=engine)

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
        timezone: str | None = None,
        auto_generate: bool | None = None,
    ) -> ProjectSettings:
        """The project of ``slug``, created when missing; the given settings applied."""
        with self.session() as s:
            project = _ensure_project(
                s,
                slug,
                name=name,
                review_required=review_required,
                blocked_terms=blocked_terms,
                timezone=timezone,
                auto_generate=auto_generate,
            )
            s.flush()
            return _project_settings(project)

    def projects(self) -> list[ProjectSettings]:
        with self.session() as s:
            return [_project_settings(p) for p in s.scalars(select(Project).order_by(Project.slug))]

    def auto_generating(self, slugs: Iterable[str]) -> set[str]:
        """Which of these projects request a content run for every new item."""
        wanted = sorted(set(slugs))
        if not wanted:
            return set()
        with self.session() as s:
            return set(
                s.scalars(
                    select(Project.slug).where(
                        Project.slug.in_(wanted), Project.auto_generate.is_(True)
                    )
                )
            )

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
                _add_draft(s, item, project, source_id)
                known.add(item.id)
                added.append(item.id)
        return added

    def pushed_items_since(self, since: datetime, *, limit: int = 1000) -> list[PushedItem]:
        """Items pushed by a webhook and stored at or after ``since``, oldest first."""
        with self.session() as s:
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
        with self.session() as s:
            return list(
                s.scalars(
                    select(ContentItem.id)
                    .join(Project, ContentItem.project_id == Project.id)
                    .where(
                        Project.slug == project,
                        ContentItem.state == ContentState.PUBLISHED,
                    )
                    .order_by(ContentItem.created_at, ContentItem.id)
                )
            )

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

    # sources (autoclip_core.ingest.catalog, the webhook) ----------------------------------------

    def sync_file_sources(self, projects: Sequence[FileProject]) -> None:
        """Mirror the sources file: its projects' settings, and its sources as ``file`` rows.

        Rows of sources no longer in the file are deleted; health is left as it is.
        """
        with self.session() as s:
            wanted: dict[str, tuple[Project, SourceDefinition]] = {}
            for spec in projects:
                project = _ensure_project(
                    s,
                    spec.slug,
                    name=spec.name,
                    timezone=spec.timezone,
                    auto_generate=spec.auto_generate,
                )
                for definition in spec.sources:
                    wanted[definition.id] = (project, definition)
            s.flush()
            rows = {row.id: row for row in s.scalars(select(Source).where(Source.origin == "file"))}
            for row_id, row in rows.items():
                if row_id not in wanted:
                    s.delete(row)
            for row_id, (project, d) in wanted.items():
                row = rows.get(row_id)
                if row is None:
                    row = Source(id=row_id, origin="file", project_id=project.id)
                    s.add(row)
                values = {
                    "project_id": project.id,
                    "kind": d.kind,
                    "name": d.name,
                    "url": d.url,
                    "config": d.config,
                    "poll_interval_s": d.poll_interval_s,
                    "enabled": d.enabled,
                }
                changes = {c: v for c, v in values.items() if getattr(row, c, None) != v}
                for column, value in changes.items():
                    setattr(row, column, value)
                if changes and row_id in rows:
                    row.updated_at = utcnow()

    def sources(
        self,
        *,
        origin: str | None = None,
        kinds: Iterable[str] | None = None,
        project: str | None = None,
    ) -> list[SourceRecord]:
        """Sources with their project and health, oldest first (optionally filtered)."""
        statement = select(Source, Project).join(Project, Source.project_id == Project.id)
        if origin is not None:
            statement = statement.where(Source.origin == origin)
        if kinds is not None:
            statement = statement.where(Source.kind.in_(list(kinds)))
        if project is not None:
            statement = statement.where(Project.slug == project)
        with self.session() as s:
            rows = s.execute(statement.order_by(Source.created_at, Source.id)).all()
            return [_source_record(source, project_row) for source, project_row in rows]

    def source(self, source_id: str) -> SourceRecord | None:
        with self.session() as s:
            row = s.execute(
                select(Source, Project)
                .join(Project, Source.project_id == Project.id)
                .where(Source.id == source_id)
            ).first()
            return None if row is None else _source_record(*row)

    def source_health(self, ids: Iterable[str]) -> dict[str, SourceHealth]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        columns = [getattr(Source, c) for c in HEALTH_COLUMNS]
        with self.session() as s:
            rows = s.execute(select(Source.id, *columns).where(Source.id.in_(wanted))).all()
        return {row[0]: _health(dict(zip(HEALTH_COLUMNS, row[1:], strict=True))) for row in rows}

    def save_source_health(self, health: Mapping[str, SourceHealth]) -> None:
        """Write the health of these sources (missing rows — deleted meanwhile — are skipped)."""
        if not health:
            return
        with self.session() as s:
            for row in s.scalars(select(Source).where(Source.id.in_(sorted(health)))):
                for column, value in asdict(health[row.id]).items():
                    if getattr(row, column) != value:
                        setattr(row, column, value)

    def record_push(
        self, source_id: str, *, new: int, duplicates: int, warning: str | None = None
    ) -> None:
        """A webhook delivery was taken in: its counts become the source's health."""
        now = utcnow()
        with self.session() as s:
            row = s.get(Source, source_id)
            if row is None:
                return
            row.last_checked_at = row.last_success_at = now
            row.last_error = None
            row.last_warning = warning[:500] if warning else None
            row.consecutive_failures = 0
            row.last_new, row.last_duplicates = new, duplicates
            row.total_new = (row.total_new or 0) + new

    # performance -------------------------------------------------------------------------------

    def record_performance(self, content_id: str, samples: Iterable[PerformanceSample]) -> int:
        """Store one snapshot per sample; how many."""
        with self.session() as s:
            self._content(s, content_id)
            rows = [PerformanceSnapshot(content_id=content_id, **asdict(x)) for x in samples]
            s.add_all(rows)
            return len(rows)

    def performance(self, content_id: str) -> list[PerformanceSample]:
        """A content item's snapshots, oldest first."""
        with self.session() as s:
            rows = s.scalars(
                select(PerformanceSnapshot)
                .where(PerformanceSnapshot.content_id == content_id)
                .order_by(PerformanceSnapshot.captured_at, PerformanceSnapshot.id)
            )
            return [
                PerformanceSample(
                    channel=r.channel,
                    url=r.url,
                    published_at=aware(r.published_at),
                    views=r.views,
                    likes=r.likes,
                    comments=r.comments,
                    shares=r.shares,
                    watch_time_s=r.watch_time_s,
                    captured_at=aware(r.captured_at),
                )
                for r in rows
            ]

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


def _ensure_project(
    s: Session,
    slug: str,
    *,
    name: str | None = None,
    review_required: bool | None = None,
    blocked_terms: list[str] | None = None,
    timezone: str | None = None,
    auto_generate: bool | None = None,
) -> Project:
    project = s.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        project = Project(slug=slug, name=name or slug, blocked_terms=[], channels=["local"])
        s.add(project)
    updates = {
        "review_required": review_required,
        "blocked_terms": None if blocked_terms is None else list(blocked_terms),
        "timezone": timezone,
        "auto_generate": auto_generate,
    }
    for column, value in updates.items():
        if value is not None and getattr(project, column) != value:
            setattr(project, column, value)
    return project


def _health(values: Mapping[str, Any]) -> SourceHealth:
    return SourceHealth(
        **{
            **values,
            "last_checked_at": aware(values["last_checked_at"]),
            "last_success_at": aware(values["last_success_at"]),
            "next_poll_at": aware(values["next_poll_at"]),
            "consecutive_failures": values["consecutive_failures"] or 0,
            "last_new": values["last_new"] or 0,
            "last_duplicates": values["last_duplicates"] or 0,
            "total_new": values["total_new"] or 0,
        }
    )


def _source_record(source: Source, project: Project) -> SourceRecord:
    return SourceRecord(
        definition=SourceDefinition(
            id=source.id,
            kind=source.kind,
            name=source.name,
            url=source.url,
            config=dict(source.config or {}),
            poll_interval_s=source.poll_interval_s,
            enabled=source.enabled,
        ),
        project=_project_settings(project),
        origin=source.origin,
        health=_health({c: getattr(source, c) for c in HEALTH_COLUMNS}),
        secret_nonce=source.secret_nonce,
    )


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


def _project_settings(p: Project) -> ProjectSettings:
    return ProjectSettings(
        p.id,
        p.slug,
        p.review_required,
        tuple(p.blocked_terms or ()),
        p.default_template,
        tuple(p.channels or ("local",)),
        p.timezone or "UTC",
        bool(p.auto_generate),
    )
