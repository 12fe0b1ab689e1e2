from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response, status
from pydantic import StringConstraints

from autoclip_api.contents.auth import (
    ContentsApprove,
    ContentsCreate,
    ContentsPublish,
    ContentsRead,
)
from autoclip_api.contents.schemas import (
    CURSOR,
    ApprovalRead,
    ApproveRequest,
    ContentCreate,
    ContentDetail,
    ContentList,
    ContentUpdate,
    GenerateRequest,
    JobList,
    JobRead,
    PublishRequest,
    RejectRequest,
    UploadList,
)
from autoclip_api.contents.service import OnRequested, content_service
from autoclip_api.context import ApiContext, ApiDep
from autoclip_api.core.db import SessionDep
from autoclip_api.core.idempotency import IdempotencyKey, answer_once
from autoclip_api.core.query import KnownQueryOnly
from autoclip_api.core.responses import error_responses, json_bytes
from autoclip_api.core.types import HEX_ID
from autoclip_api.dagster.outbox import RunSubmitter
from autoclip_api.projects.schemas import LANGUAGE
from autoclip_core.db.content import ContentFilter
from autoclip_core.states import ContentState

router = APIRouter(prefix="/contents", tags=["contents"], dependencies=[KnownQueryOnly])

ITEM = "/{content_id}"
IDEMPOTENT_ERRORS = (401, 403, 404, 409, 422, 429)


def submit_when_committed(api: ApiContext, background: BackgroundTasks) -> OnRequested:
    """A committed run request is submitted once the response is sent (what is left when
    Dagster is down, the background loop submits later)."""
    submitter = RunSubmitter(api.database, api.dagster)
    return lambda job_id: background.add_task(submitter.submit, job_id)


@router.get("", response_model=ContentList, responses=error_responses(401, 403, 422, 429))
async def list_contents(
    subject: ContentsRead,
    api: ApiDep,
    project_id: Annotated[str | None, Query(pattern=HEX_ID.pattern)] = None,
    state: ContentState | None = None,
    language: Annotated[
        str | None, Query(max_length=16, pattern=LANGUAGE, description="A BCP 47 tag.")
    ] = None,
    q: Annotated[
        str | None,
        Query(description="Words in the title."),
        StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$"),
    ] = None,
    cursor: Annotated[str | None, Query(pattern=CURSOR, description="From `next_cursor`.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Your organisation's content items, newest first."""
    where = ContentFilter(project_id=project_id, state=state, language=language, q=q)
    return json_bytes(
        await content_service.list_json(api, subject, where, cursor=cursor, limit=limit)
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ContentDetail,
    responses=error_responses(*IDEMPOTENT_ERRORS),
)
def create_content(
    body: ContentCreate,
    subject: ContentsCreate,
    session: SessionDep,
    api: ApiDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A new item in `draft`, from a text or an article's URL (fetched through the same guard
    as feeds: a refused address is a 422 saying why)."""
    return answer_once(
        api.database,
        request,
        user_id=subject.user_id,
        key=idempotency_key,
        body=body,
        status_code=status.HTTP_201_CREATED,
        produce=lambda: content_service.create(session, api, subject, body),
    )


@router.get(ITEM, responses=error_responses(401, 403, 404, 429))
def get_content(content_id: str, subject: ContentsRead, session: SessionDep) -> ContentDetail:
    """The item with its script, each pipeline step's last outcome, the safety verdicts, its
    media and the review decision."""
    return content_service.get(session, subject, content_id)


@router.patch(ITEM, responses=error_responses(401, 403, 404, 409, 422, 429))
def update_content(
    content_id: str, body: ContentUpdate, subject: ContentsCreate, session: SessionDep
) -> ContentDetail:
    """An edited script is used as it is by the next run (`generate` with `from: script`
    redoes only what the edit changes: unchanged narration is not spoken again)."""
    return content_service.update(session, subject, content_id, body)


@router.delete(
    ITEM, status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 403, 404, 409, 429)
)
def delete_content(
    content_id: str, subject: ContentsCreate, session: SessionDep, api: ApiDep
) -> Response:
    """Deletes the item, its Dagster partition and the media no other item shares (409 while
    a run of it is pending or running)."""
    content_service.delete(session, api, subject, content_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    f"{ITEM}/generate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    responses=error_responses(*IDEMPOTENT_ERRORS),
)
def generate_content(
    content_id: str,
    subject: ContentsCreate,
    session: SessionDep,
    api: ApiDep,
    background: BackgroundTasks,
    request: Request,
    body: GenerateRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Requests a run of the pipeline for the item (`pending` until Dagster has it, also
    while Dagster is down)."""
    given = body or GenerateRequest()
    return answer_once(
        api.database,
        request,
        user_id=subject.user_id,
        key=idempotency_key,
        body=given,
        status_code=status.HTTP_202_ACCEPTED,
        produce=lambda: content_service.generate(
            session,
            api,
            subject,
            content_id,
            given.from_,
            submit_when_committed(api, background),
        ),
    )


@router.post(
    f"{ITEM}/approve", response_model=ApprovalRead, responses=error_responses(*IDEMPOTENT_ERRORS)
)
def approve_content(
    content_id: str,
    subject: ContentsApprove,
    session: SessionDep,
    api: ApiDep,
    background: BackgroundTasks,
    request: Request,
    body: ApproveRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Approves a `ready` item (409 otherwise, naming its state); its channels that publish on
    approval get it at once."""
    given = body or ApproveRequest()
    return answer_once(
        api.database,
        request,
        user_id=subject.user_id,
        key=idempotency_key,
        body=given,
        status_code=status.HTTP_200_OK,
        produce=lambda: content_service.approve(
            session, api, subject, content_id, given.note, submit_when_committed(api, background)
        ),
    )


@router.post(f"{ITEM}/reject", responses=error_responses(401, 403, 404, 409, 422, 429))
def reject_content(
    content_id: str, body: RejectRequest, subject: ContentsApprove, session: SessionDep
) -> ContentDetail:
    """Sends a `ready` item back to `draft` with the reason; nothing is published."""
    return content_service.reject(session, subject, content_id, body.reason)


@router.post(
    f"{ITEM}/publish",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    responses=error_responses(*IDEMPOTENT_ERRORS),
)
def publish_content(
    content_id: str,
    subject: ContentsPublish,
    session: SessionDep,
    api: ApiDep,
    background: BackgroundTasks,
    request: Request,
    body: PublishRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Publishes a `ready` (or `failed_upload`) item; in a project with review, only once it
    is approved (409 before)."""
    given = body or PublishRequest()
    return answer_once(
        api.database,
        request,
        user_id=subject.user_id,
        key=idempotency_key,
        body=given,
        status_code=status.HTTP_202_ACCEPTED,
        produce=lambda: content_service.publish(
            session,
            api,
            subject,
            content_id,
            given.channels,
            submit_when_committed(api, background),
        ),
    )


@router.get(f"{ITEM}/jobs", responses=error_responses(401, 403, 404, 429))
def list_jobs(content_id: str, subject: ContentsRead, session: SessionDep, api: ApiDep) -> JobList:
    """Each Dagster run of the item, newest first: its steps with their tries and real errors,
    and a link to the run in the Dagster UI."""
    return content_service.jobs(session, api, subject, content_id)


@router.get(f"{ITEM}/uploads", responses=error_responses(401, 403, 404, 429))
def list_uploads(content_id: str, subject: ContentsRead, session: SessionDep) -> UploadList:
    """The item's publication on each channel: state, URL, platform id, error, tries."""
    return content_service.uploads(session, subject, content_id)
