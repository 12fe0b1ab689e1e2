"""Callbacks from the vendors the pipeline uses: Creatomate reports a finished render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from starlette.concurrency import run_in_threadpool

from autoclip_api.auth.dependencies import RouteGuard
from autoclip_api.context import ApiDep
from autoclip_api.core.responses import error_responses
from autoclip_api.webhooks.service import RenderReport, read_report, record, report_schema

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

Token = Annotated[
    str,
    Path(
        pattern=r"^[0-9a-f]{64}$",
        description="The render's token: hex HMAC-SHA256 of its metadata with the secret.",
    ),
]


class RenderToken(RouteGuard):
    """The render's own address is the credential (Creatomate signs nothing): its token is
    recomputed from the report's ``metadata`` and compared in constant time."""

    policy = "render address (HMAC-SHA256 token)"

    async def __call__(self, token: Token, request: Request, api: ApiDep) -> RenderReport:
        body = await request.body()
        return await run_in_threadpool(read_report, body, token, api.settings)


Reported = Annotated[RenderReport, Depends(RenderToken())]


@router.post(
    "/creatomate/{token}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(400, 401, 404, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": report_schema()}},
        }
    },
)
async def creatomate_render_finished(report: Reported, api: ApiDep) -> Response:
    """Creatomate reports a render that succeeded or failed (its render object). The render
    step waiting for it reads it within a second instead of polling Creatomate."""
    await run_in_threadpool(record, report, api.settings)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
