"""Creatomate's reports of finished renders, checked and recorded where the waiting render
step looks (``autoclip_core.creatomate_webhook``)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autoclip_api.core.errors import BadRequest, NotFound, ServiceUnavailable, Unauthorized
from autoclip_core import s3
from autoclip_core.creatomate_webhook import FINISHED, RENDER_ID, callback_key, verified
from autoclip_core.settings import Settings


class RenderReport(BaseModel):
    """The render object Creatomate posts (the fields we read; it sends more)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(pattern=RENDER_ID.pattern)
    status: str
    url: str | None = None
    error_message: str | None = None
    metadata: str = ""


def read_report(body: bytes, token: str, settings: Settings) -> RenderReport:
    """The report, if it is a finished render's and came to that render's address."""
    secret = settings.creatomate_webhook_secret
    if secret is None:
        raise NotFound("Creatomate's webhook is not set up here")
    try:
        report = RenderReport.model_validate(json.loads(body))
    except (ValueError, ValidationError):
        raise BadRequest("not a Creatomate render object") from None
    if not verified(secret.get_secret_value(), report.metadata, token):
        raise Unauthorized("not this render's webhook address")
    if report.status not in FINISHED:
        raise BadRequest(f"render {report.id} is {report.status}, not finished")
    return report


def record(report: RenderReport, settings: Settings) -> None:
    """Store the report where the render step's storage finds it (filesystem or S3)."""
    key = callback_key(report.id)
    data = report.model_dump_json().encode()
    if settings.storage_provider == "s3":
        put_object(settings, key, data)
        return
    write_atomically(settings.media_dir / key, data)


def put_object(settings: Settings, key: str, data: bytes) -> None:
    try:
        s3.client(settings.s3_endpoint_url).put_object(
            Bucket=settings.s3_bucket, Key=key, Body=data, ContentType="application/json"
        )
    except (BotoCoreError, ClientError) as exc:
        raise ServiceUnavailable(f"could not record the render: {type(exc).__name__}") from exc


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def report_schema() -> dict[str, Any]:
    return RenderReport.model_json_schema()
