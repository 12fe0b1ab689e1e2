from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from autoclip_api.context import ApiDep
from autoclip_api.core.db import SessionDep
from autoclip_api.core.responses import error_responses, problem_response
from autoclip_api.media.service import (
    CACHE_CONTROL,
    RangeNotSatisfiable,
    http_date,
    media_service,
    not_modified,
    parse_range,
    range_applies,
)
from autoclip_api.projects.auth import ProjectsRead
from autoclip_core.db.media import MediaKind

router = APIRouter(prefix="/contents/{content_id}/media", tags=["media"])

MEDIA_CONTENT = {
    "video/mp4": {},
    "image/jpeg": {},
    "audio/wav": {},
    "text/vtt": {},
}
MEDIA_RESPONSES: dict[int | str, dict[str, Any]] = {
    **error_responses(401, 403, 404, 416, 429),
    200: {"description": "The whole file", "content": MEDIA_CONTENT},
    206: {"description": "The requested byte range", "content": MEDIA_CONTENT},
    304: {"description": "Your cached copy is current"},
    307: {"description": "Stored on S3: a presigned URL of the file, valid for a while"},
}


@router.get(
    "/{kind}",
    response_class=Response,
    responses=MEDIA_RESPONSES,
)
async def get_media(
    content_id: str,
    kind: MediaKind,
    request: Request,
    subject: ProjectsRead,
    session: SessionDep,
    api: ApiDep,
) -> Response:
    """The item's video (mp4), thumbnail (JPEG), narration (WAV) or captions (WebVTT), with
    byte ranges for seeking (206), ETag and Last-Modified for caching; with S3 storage, a
    redirect (307) to a presigned URL of the file instead (captions are still sent here)."""
    media = await run_in_threadpool(
        media_service.find, session, subject, api.settings, content_id, kind
    )
    # The file streams for as long as the client takes: no connection is held meanwhile.
    await run_in_threadpool(session.close)
    if isinstance(media, str):  # stored on S3: the bucket serves it, ranges and all
        return RedirectResponse(media, status_code=307, headers={"Cache-Control": "no-store"})
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": media.etag,
        "Last-Modified": http_date(media.last_modified),
        "Cache-Control": CACHE_CONTROL,
    }
    if not_modified(media, request.headers):
        return Response(status_code=304, headers=headers)
    requested = request.headers.get("range")
    try:
        span = parse_range(requested, media.size) if range_applies(
            media, request.headers.get("if-range")
        ) else None
    except RangeNotSatisfiable:
        return problem_response(
            416,
            f"The range {requested!r} starts past the end of the {media.size}-byte file",
            headers={**headers, "Content-Range": f"bytes */{media.size}"},
        )
    start, end = span if span is not None else (0, media.size - 1)
    headers["Content-Length"] = str(end - start + 1 if media.size else 0)
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{media.size}"
    if request.method == "HEAD" or media.size == 0:
        return Response(status_code=status, headers=headers, media_type=media.media_type)
    return StreamingResponse(
        media.read(start, end), status_code=status, headers=headers, media_type=media.media_type
    )


# HEAD answers as GET without the body (a player may ask for the size first).
router.add_api_route(
    "/{kind}",
    get_media,
    methods=["HEAD"],
    response_class=Response,
    responses=MEDIA_RESPONSES,
    operation_id="head_media",
    summary="Head Media",
)
