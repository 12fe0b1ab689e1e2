"""Content items through the API: made from a text or an article's URL, edited, generated,
reviewed and published — runs are requested through the outbox (``dagster/outbox.py``), so a
request is committed before Dagster hears of it."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from autoclip_api.auth.subject import AuthSubject
from autoclip_api.contents.schemas import (
    ApprovalRead,
    AssetStatus,
    ContentCreate,
    ContentDetail,
    ContentList,
    ContentRead,
    ContentUpdate,
    JobList,
    JobRead,
    Review,
    SafetyVerdictRead,
    ScriptEdit,
    ScriptRead,
    StepRead,
    UploadList,
    UploadRead,
    duration,
)
from autoclip_api.context import ApiContext
from autoclip_api.core.errors import Conflict, NotFound
from autoclip_api.core.types import as_utc
from autoclip_api.dagster.client import DagsterError
from autoclip_api.media.service import remove_stored
from autoclip_api.projects.service import check_references, readable_project
from autoclip_core.db.channels import ChannelRepository, publish_targets
from autoclip_core.db.content import (
    ContentFilter,
    ContentRepository,
    ContentStateError,
)
from autoclip_core.db.jobs import JobRecord, JobRepository
from autoclip_core.db.media import MediaRepository
from autoclip_core.db.models import Channel, ContentItem, Project, new_id
from autoclip_core.db.uploads import UploadRepository
from autoclip_core.feeds import title_from_text
from autoclip_core.ingest.article import ArticleError, read_article
from autoclip_core.ingest.config import Limits
from autoclip_core.ingest.normalize import normalize_item
from autoclip_core.nlp.language import UNDETERMINED
from autoclip_core.pipeline_names import (
    CHANNELS_TAG,
    CONTENT_JOB,
    CONTENT_PARTITIONS,
    GENERATE_FROM,
    PIPELINE_STEPS,
    PROJECT_TAG,
    PUBLISH_JOB,
    TRIGGER_TAG,
    GenerateFrom,
    Trigger,
)
from autoclip_core.schemas import Scene, Script, SourceItem
from autoclip_core.states import ContentState

logger = logging.getLogger("autoclip_api.contents")

CONTENT_NOT_FOUND = "Content item not found"
API_PREFIX = "/api/v1"
CONTENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
"""Item ids: the API's are hex, the feeds' ``<project slug>-<hash>``."""
LIST_COLUMNS = tuple(ContentRead.model_fields)
SOURCE = "api"
"""``SourceItem.source`` of the items made through the API."""

_CONTENT_LIST = TypeAdapter(ContentList)

OnRequested = Callable[[str], None]
"""Called with a job's id once its request is committed (to submit it at once)."""


def readable_content(
    session: Session, subject: AuthSubject, content_id: str, *, for_update: bool = False
) -> ContentItem:
    """The item if the subject's organisation may read it; else 404, as for a missing one."""
    content = (
        ContentRepository(session).get_readable(subject.org_id, content_id, for_update=for_update)
        if CONTENT_ID.match(content_id)
        else None
    )
    if content is None:
        raise NotFound(CONTENT_NOT_FOUND)
    return content


def not_ready(action: str, state: ContentState) -> Conflict:
    """409 naming the state the item is in."""
    return Conflict(f"Only a ready item can be {action}; it is {state}")


def refuse(field: str, message: str, kind: str = "value_error") -> RequestValidationError:
    """422 naming the body's ``field``."""
    return RequestValidationError([{"type": kind, "loc": ("body", field), "msg": message}])


# cursors ------------------------------------------------------------------------------------


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(after: tuple[datetime, str]) -> str:
    """``<microseconds since 1970>-<id>``: every string of that form (``CURSOR``) is a cursor."""
    at, content_id = after
    return f"{(as_utc(at) - EPOCH) // timedelta(microseconds=1)}-{content_id}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """A cursor the ``cursor`` query parameter's pattern admitted."""
    micros, content_id = cursor.split("-", 1)
    return EPOCH + timedelta(microseconds=int(micros)), content_id


# what a response shows ------------------------------------------------------------------------


def job_read(api: ApiContext, job: JobRecord) -> JobRead:
    return JobRead(
        id=job.id,
        job=job.job_name,
        state=job.state,
        run_id=job.run_id,
        run_url=None if job.run_id is None else f"{api.settings.dagster_ui_url}/runs/{job.run_id}",
        selection=job.selection,
        requested_by=job.requested_by,
        created_at=job.created_at,
        submitted_at=job.submitted_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        attempts=job.attempts,
        error=job.error,
        submit_error=job.submit_error,
        steps=[
            StepRead(
                step=s.key,
                state=s.state,
                started_at=s.started_at,
                finished_at=s.finished_at,
                duration_s=duration(s.started_at, s.finished_at),
                attempts=s.attempts,
                error=s.error,
            )
            for s in job.steps
        ],
    )


def asset_statuses(jobs: Sequence[JobRecord]) -> list[AssetStatus]:
    """Each pipeline step as the newest run that ran it left it."""
    statuses = []
    for step in PIPELINE_STEPS:
        found = next(
            ((job, s) for job in jobs for s in job.steps if s.key == step), None
        )  # jobs are newest first
        if found is None:
            statuses.append(AssetStatus(step=step, state="not_run"))
            continue
        job, record = found
        statuses.append(
            AssetStatus(
                step=step,
                state=record.state,
                started_at=record.started_at,
                finished_at=record.finished_at,
                duration_s=duration(record.started_at, record.finished_at),
                attempts=record.attempts,
                error=record.error,
                materialized=record.materialized,
                run_id=job.run_id,
            )
        )
    return statuses


def safety_verdicts(jobs: Sequence[JobRecord]) -> list[SafetyVerdictRead]:
    """Each check's newest verdict."""
    seen: dict[str, SafetyVerdictRead] = {}
    for job in jobs:
        for check in job.checks:
            seen.setdefault(
                check.name,
                SafetyVerdictRead(
                    check=check.name,
                    asset=check.asset,
                    passed=check.passed,
                    description=check.description,
                    run_id=job.run_id,
                ),
            )
    return list(seen.values())


def script_read(content: ContentItem) -> ScriptRead | None:
    data = content.script_override or content.script
    if data is None:
        return None
    return ScriptRead.model_validate({**data, "edited": content.script_override is not None})


def review(content: ContentItem) -> Review:
    decision: Literal["approved", "rejected"] | None = None
    by, at = None, None
    if content.approved_at is not None:
        decision, by, at = "approved", content.approved_by, content.approved_at
    elif content.rejected_at is not None:
        decision, by, at = "rejected", content.rejected_by, content.rejected_at
    return Review(
        required=content.project.review_required,
        decision=decision,
        by=by,
        at=at,
        note=content.review_note if decision else None,
    )


def media_links(session: Session, content_id: str) -> dict[str, str]:
    kinds = MediaRepository(session).of_content(content_id)
    return {kind: f"{API_PREFIX}/contents/{content_id}/media/{kind}" for kind in kinds}


def content_read(content: ContentItem) -> ContentRead:
    return ContentRead.model_validate(content)


# channels -------------------------------------------------------------------------------------


def item_channels(content: ContentItem) -> list[str]:
    """The ids of the channels the item publishes to: its own, else its project's."""
    return list(content.channels if content.channels is not None else content.project.channels)


def publishing_on_approval(session: Session, project: Project, ids: Sequence[str]) -> list[str]:
    """Those of these channels that publish an approved item at once: all but the ones whose
    settings say ``"auto_publish": false`` (their publication waits for ``POST …/publish``)."""
    rows = session.execute(
        ChannelRepository.get_readable_statement(project.org_id)
        .where(Channel.project_id == project.id, Channel.id.in_(list(ids)))
        .with_only_columns(Channel.id, Channel.settings)
    ).all()
    waiting = {i for i, settings in rows if (settings or {}).get("auto_publish") is False}
    return [i for i in ids if i not in waiting]


class ContentService:
    # reading --------------------------------------------------------------------------------

    async def list_json(
        self,
        api: ApiContext,
        subject: AuthSubject,
        where: ContentFilter,
        *,
        cursor: str | None,
        limit: int,
    ) -> bytes:
        """A page as ``ContentList`` JSON, from ``api.org_cache`` while the organisation's data
        keeps the version read at the start of the request, else from the database.

        Only a version kept in Redis is used: the pipeline's processes change items too and
        bump it there (``autoclip_core/db/content.py``), but they cannot reach a version in
        this process's memory, so without Redis every page is read from the database."""
        version = subject.org_version if api.limiter.backend == "redis" else None
        after = None if cursor is None else decode_cursor(cursor)
        return await api.org_cache.get_or_load(
            ("contents", subject.org_id, where, cursor, limit),
            version,
            partial(run_in_threadpool, self._list_json, api, subject.org_id, where, after, limit),
        )

    def _list_json(
        self,
        api: ApiContext,
        org_id: str | None,
        where: ContentFilter,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> bytes:
        with api.sessions() as session:
            page = ContentRepository(session).list_readable(
                org_id, where, LIST_COLUMNS, after=after, limit=limit
            )
        # Validated once here rather than again by FastAPI. Validating plain dicts is several
        # times faster than reading attributes off rows, and zipping each row with the names
        # once read is ~5x faster than ``Row._asdict()``.
        fields = page.rows[0]._fields if page.rows else ()
        return _CONTENT_LIST.dump_json(
            ContentList.model_validate(
                {
                    "items": [dict(zip(fields, row, strict=True)) for row in page.rows],
                    "next_cursor": (
                        None if page.next_after is None else encode_cursor(page.next_after)
                    ),
                }
            )
        )

    def get(self, session: Session, subject: AuthSubject, content_id: str) -> ContentDetail:
        return self.detail(session, readable_content(session, subject, content_id))

    def detail(self, session: Session, content: ContentItem) -> ContentDetail:
        jobs = JobRepository(session).records(content.id)
        return ContentDetail.model_validate(
            {
                **content_read(content).model_dump(),
                "text": (content.payload or {}).get("text", ""),
                "script": script_read(content),
                "assets": asset_statuses(jobs),
                "safety": safety_verdicts(jobs),
                "media": media_links(session, content.id),
                "review": review(content),
            }
        )

    def jobs(
        self, session: Session, api: ApiContext, subject: AuthSubject, content_id: str
    ) -> JobList:
        content = readable_content(session, subject, content_id)
        return JobList(items=[job_read(api, j) for j in JobRepository(session).records(content.id)])

    def uploads(self, session: Session, subject: AuthSubject, content_id: str) -> UploadList:
        content = readable_content(session, subject, content_id)
        return UploadList(
            items=[
                UploadRead.model_validate(u, from_attributes=True)
                for u in UploadRepository(session).of_content(content.id)
            ]
        )

    # making and changing ----------------------------------------------------------------------

    def create(
        self, session: Session, api: ApiContext, subject: AuthSubject, data: ContentCreate
    ) -> ContentDetail:
        project = self._project(session, subject, data.project_id)
        check_references(session, subject, project, data.model_dump(exclude_unset=True))
        title, text, url, canonical = data.title, data.text or "", data.url or "", None
        if data.url is not None:
            limits = Limits()
            try:
                article = read_article(
                    data.url, max_bytes=limits.max_article_bytes, timeout_s=limits.fetch_timeout_s
                )
            except ArticleError as exc:
                raise refuse("url", str(exc), "url_refused") from exc
            title, text, canonical = title or article.title, article.text, article.canonical_url
        item = normalize_item(
            SourceItem(
                id=new_id(),
                project=project.slug,
                source=SOURCE,
                url=url,
                title=title or title_from_text(text),
                text=text,
                canonical_url=canonical,
            )
        )
        repository = ContentRepository(session)
        content = repository.create(
            project, item, template_id=data.template_id, channels=data.channels
        )
        if item.language and item.language != UNDETERMINED:
            content.language = item.language
        session.commit()
        logger.info(
            "content created org=%s project=%s content=%s", subject.org_id, project.id, content.id
        )
        return self.detail(session, content)

    def update(
        self, session: Session, subject: AuthSubject, content_id: str, data: ContentUpdate
    ) -> ContentDetail:
        content = readable_content(session, subject, content_id, for_update=True)
        given = data.model_dump(exclude_unset=True)
        check_references(session, subject, content.project, given)
        values: dict[str, Any] = {
            k: given[k] for k in ("title", "template_id", "channels") if k in given
        }
        if "script" in given:
            values["script_override"] = (
                None if data.script is None else self._edited(content, data.script)
            )
        ContentRepository(session).edit(content, values)
        session.commit()
        return self.detail(session, content)

    @staticmethod
    def _edited(content: ContentItem, edit: ScriptEdit) -> dict[str, Any]:
        """The item's script with a person's edit (its hashtags, description and language
        stay): what the pipeline will use as it is."""
        base = content.script_override or content.script
        if base is None:
            raise Conflict("The item has no script yet: generate it first, then edit the script")
        current = Script.model_validate(base)
        edited = current.model_copy(
            update={
                "title": edit.title,
                "hook": edit.hook,
                "scenes": [
                    Scene(
                        narration=s.narration,
                        on_screen_text=s.on_screen_text,
                        visual_query=s.visual_query or s.on_screen_text,
                    )
                    for s in edit.scenes
                ],
                "call_to_action": edit.call_to_action,
            }
        )
        return Script.model_validate(edited.model_dump()).model_dump(mode="json")

    def delete(
        self, session: Session, api: ApiContext, subject: AuthSubject, content_id: str
    ) -> None:
        content = readable_content(session, subject, content_id, for_update=True)
        self._refuse_while_active(session, content)
        unshared = ContentRepository(session).delete(content)
        session.commit()
        remove_stored(api.settings, unshared)
        try:
            api.dagster.delete_partition(CONTENT_PARTITIONS, content.id)
        except DagsterError as exc:
            logger.warning("partition of deleted content %s left in Dagster: %s", content.id, exc)
        logger.info(
            "content deleted org=%s content=%s files=%d", subject.org_id, content.id, len(unshared)
        )

    # runs -------------------------------------------------------------------------------------

    def generate(
        self,
        session: Session,
        api: ApiContext,
        subject: AuthSubject,
        content_id: str,
        start: GenerateFrom | None,
        on_requested: OnRequested,
    ) -> JobRead:
        content = readable_content(session, subject, content_id, for_update=True)
        self._refuse_while_active(session, content)
        if start is not None and content.script is None:
            raise Conflict(f"The item was never generated: generate it whole before from {start!r}")
        ContentRepository(session).clear_approval(content.id)
        job = JobRepository(session).request(
            content.id,
            CONTENT_JOB,
            selection=None if start is None else GENERATE_FROM[start],
            tags={TRIGGER_TAG: Trigger.API, PROJECT_TAG: content.project.slug},
            requested_by=subject.user_id,
        )
        session.commit()
        on_requested(job.id)
        return job_read(api, job)

    def approve(
        self,
        session: Session,
        api: ApiContext,
        subject: AuthSubject,
        content_id: str,
        note: str | None,
        on_requested: OnRequested,
    ) -> ApprovalRead:
        """Records the approval; channels that publish on approval get the item at once."""
        content = readable_content(session, subject, content_id, for_update=True)
        try:
            ContentRepository(session).approve(content.id, by=subject.user_id, note=note)
        except ContentStateError as exc:
            raise not_ready("approved", exc.state) from exc
        self._refuse_while_active(session, content)
        automatic = publishing_on_approval(session, content.project, item_channels(content))
        targets = publish_targets(session, content.project, automatic)
        job = None
        if targets:
            job = self._request_publication(session, subject, content, targets)
        session.commit()
        if job is not None:
            on_requested(job.id)
        return ApprovalRead(
            item=content_read(content), publication=None if job is None else job_read(api, job)
        )

    def reject(
        self, session: Session, subject: AuthSubject, content_id: str, reason: str
    ) -> ContentDetail:
        content = readable_content(session, subject, content_id, for_update=True)
        try:
            ContentRepository(session).reject(content.id, by=subject.user_id, reason=reason)
        except ContentStateError as exc:
            raise not_ready("rejected", exc.state) from exc
        session.commit()
        return self.detail(session, content)

    def publish(
        self,
        session: Session,
        api: ApiContext,
        subject: AuthSubject,
        content_id: str,
        channels: list[str] | None,
        on_requested: OnRequested,
    ) -> JobRead:
        content = readable_content(session, subject, content_id, for_update=True)
        state = ContentState(content.state)
        if state not in (ContentState.READY, ContentState.FAILED_UPLOAD):
            raise not_ready("published", state)
        if content.project.review_required and content.approved_at is None:
            raise Conflict("The project requires review: approve the item before publishing it")
        self._refuse_while_active(session, content)
        if channels is not None:
            check_references(session, subject, content.project, {"channels": channels})
        targets = publish_targets(session, content.project, channels or item_channels(content))
        if not targets:
            raise Conflict("No channel of the item can publish (add one, or connect its account)")
        job = self._request_publication(session, subject, content, targets)
        session.commit()
        on_requested(job.id)
        return job_read(api, job)

    @staticmethod
    def _request_publication(
        session: Session, subject: AuthSubject, content: ContentItem, slugs: Sequence[str]
    ) -> JobRecord:
        UploadRepository(session).request(content.id, slugs)
        return JobRepository(session).request(
            content.id,
            PUBLISH_JOB,
            tags={
                TRIGGER_TAG: Trigger.API,
                PROJECT_TAG: content.project.slug,
                CHANNELS_TAG: ",".join(slugs),
            },
            requested_by=subject.user_id,
        )

    # helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _refuse_while_active(session: Session, content: ContentItem) -> None:
        active = JobRepository(session).active(content.id)
        if active is not None:
            raise Conflict(
                f"A {active.job_name} run of the item is {active.state} (job {active.id})"
            )

    @staticmethod
    def _project(session: Session, subject: AuthSubject, project_id: str) -> Project:
        try:
            return readable_project(session, subject, project_id)
        except NotFound:
            raise refuse("project_id", "no such project", "unknown_project") from None


content_service = ContentService()
