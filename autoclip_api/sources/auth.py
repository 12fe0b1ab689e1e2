"""Who may do what with sources: the permission table's ``projects.read`` to read them,
``projects.update`` to create and delete them; a webhook delivery proves itself with its
signature instead of a bearer token (``WebhookSignature``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from autoclip_api.auth.dependencies import Authorize, RouteGuard
from autoclip_api.auth.permissions import Permission
from autoclip_api.auth.subject import AuthSubject
from autoclip_api.context import ApiDep
from autoclip_api.sources.service import SignedDelivery, verify_delivery
from autoclip_api.sources.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER

SourcesRead = Annotated[AuthSubject, Depends(Authorize(Permission.PROJECTS_READ))]
SourcesManage = Annotated[AuthSubject, Depends(Authorize(Permission.PROJECTS_UPDATE))]

TimestampHeader = Annotated[
    str | None, Header(alias=TIMESTAMP_HEADER, description="Unix seconds when it was signed.")
]
SignatureHeader = Annotated[
    str | None,
    Header(
        alias=SIGNATURE_HEADER,
        description='"sha256=" + hex HMAC-SHA256 of "<timestamp>.<raw body>" with the '
        "source's secret.",
    ),
]


class WebhookSignature(RouteGuard):
    """The delivery is signed with the source's secret (no bearer token): the signature is
    the authentication. Rate limited per source and per client like the rest of the API."""

    policy = "webhook signature (HMAC-SHA256)"

    async def __call__(
        self,
        project_id: str,
        source_id: str,
        request: Request,
        api: ApiDep,
        timestamp: TimestampHeader = None,
        signature: SignatureHeader = None,
    ) -> SignedDelivery:
        body = await request.body()  # verified as sent, before anything parses it
        client = request.client.host if request.client else "unknown"
        return await run_in_threadpool(
            verify_delivery, api, project_id, source_id, body, timestamp, signature, client
        )


SignedPush = Annotated[SignedDelivery, Depends(WebhookSignature())]
