from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from autoclip_api.auth.subject import AuthSubject
from autoclip_api.context import ApiContext
from autoclip_api.core.errors import (
    ApiError,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
)
from autoclip_api.core.ratelimit import LimiterUnavailable
from autoclip_api.core.secrets import jwt_secret
from autoclip_api.core.types import is_hex_id
from autoclip_api.projects.service import readable_project
from autoclip_api.sources import signature
from autoclip_api.sources.schemas import (
    ItemsPush,
    PushedItemResult,
    PushResult,
    SourceCreate,
    SourceCreated,
    SourceList,
    SourceRead,
)
from autoclip_core.db.models import Project, Source, new_id, utcnow
from autoclip_core.db.sources import SourceRecord, SourceRepository, row_values
from autoclip_core.fetch import FetchError, FetchRefusedError, check_url
from autoclip_core.ingest.config import (
    DedupeSettings,
    SourcesConfigError,
    WebhookSource,
    configured_sources,
)
from autoclip_core.ingest.state import SourceHealth
from autoclip_core.ingest.webhook import take_in_push

logger = logging.getLogger("autoclip_api.sources")

SOURCE_NOT_FOUND = "Source not found"
API_PREFIX = "/api/v1"
REPLAY_WINDOW_SECONDS = 2 * signature.TOLERANCE_SECONDS + 60
"""A signature is remembered for longer than its timestamp can be accepted."""
_STATUS = {"new": "accepted", "duplicate": "duplicate", "skipped": "skipped"}


class SignatureRejected(ApiError):
    """401 for a delivery whose signature is missing, expired or wrong."""

    status_code = 401
    default_detail = "Invalid signature"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(
            detail, headers={"WWW-Authenticate": 'AutoClip-HMAC-SHA256 realm="webhook"'}
        )


def push_path(project_id: str, source_id: str) -> str:
    return f"{API_PREFIX}/projects/{project_id}/sources/{source_id}/items"


def _check_source_url(url: str) -> None:
    """A 422 for a URL the fetcher would refuse (the same guard, ``check_url``: loopback,
    private, link-local, reserved addresses, unless ``AUTOCLIP_FETCH_ALLOW_HOSTS`` allows them).
    A name that does not resolve now is accepted: the fetcher checks every address it connects
    to. (Credentials in the URL are refused by the schema, ``SourceUrl``.)"""
    try:
        check_url(url)
    except FetchRefusedError as exc:
        reason = f"url is not allowed: {exc.reason} (AutoClip never fetches from loopback, "
        reason += "private, link-local or reserved addresses)"
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("body", "url"), "msg": f"Value error, {reason}"}]
        ) from None
    except FetchError:
        pass


def _shown_url(url: str | None) -> str | None:
    """A source's URL as the API shows it: without credentials (the sources file may hold
    some)."""
    if url is None or "@" not in urlsplit(url).netloc:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _fields(source: Source) -> dict[str, Any]:
    return {
        "id": source.id,
        "project_id": source.project_id,
        "kind": source.kind,
        "name": source.name,
        "url": _shown_url(source.url),
        "config": source.config or {},
        "poll_interval": None if source.poll_interval_s is None else int(source.poll_interval_s),
        "enabled": source.enabled,
        "push_path": push_path(source.project_id, source.id) if source.kind == "webhook" else None,
        "created_at": source.created_at,
        "updated_at": source.updated_at,
        "health": SourceHealth.model_validate(source),
    }


def source_read(source: Source) -> SourceRead:
    """A source as read back: never with a secret."""
    return SourceRead.model_validate(_fields(source))


class SourceService:
    def list(self, session: Session, subject: AuthSubject, project_id: str) -> SourceList:
        project = readable_project(session, subject, project_id)
        sources = SourceRepository(session).list_readable(subject.org_id, project.id)
        return SourceList(items=[source_read(s) for s in sources])

    def create(
        self,
        session: Session,
        api: ApiContext,
        subject: AuthSubject,
        project_id: str,
        data: SourceCreate,
    ) -> SourceCreated:
        project = readable_project(session, subject, project_id)
        url = getattr(data, "url", None)
        if url:
            _check_source_url(url)
        source_id = new_id()
        source = Source(
            id=source_id,
            project_id=project.id,
            origin="api",
            created_at=utcnow(),
            **row_values(data),
        )
        secret = None
        if isinstance(data, WebhookSource):
            source.secret_nonce = signature.new_nonce()
            secret = signature.derive_secret(
                jwt_secret(api.settings), source_id, source.secret_nonce
            )
        SourceRepository(session).add(source)
        session.commit()
        logger.info(
            "source created org=%s project=%s source=%s kind=%s",
            subject.org_id,
            project.id,
            source.id,
            source.kind,
        )
        return SourceCreated.model_validate({**_fields(source), "secret": secret})

    def get(
        self, session: Session, subject: AuthSubject, project_id: str, source_id: str
    ) -> SourceRead:
        project = readable_project(session, subject, project_id)
        return source_read(self._source(session, subject, project, source_id))

    def delete(
        self, session: Session, subject: AuthSubject, project_id: str, source_id: str
    ) -> None:
        project = readable_project(session, subject, project_id)
        SourceRepository(session).delete(self._source(session, subject, project, source_id))
        session.commit()
        logger.info(
            "source deleted org=%s project=%s source=%s", subject.org_id, project.id, source_id
        )

    @staticmethod
    def _source(session: Session, subject: AuthSubject, project: Project, source_id: str) -> Source:
        source = (
            SourceRepository(session).get_readable(subject.org_id, project.id, source_id)
            if is_hex_id(source_id)
            else None
        )
        if source is None:
            raise NotFound(SOURCE_NOT_FOUND)
        return source


source_service = SourceService()


# the webhook ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedDelivery:
    """A delivery whose signature was verified, for an enabled webhook source."""

    source: SourceRecord
    body: bytes


def _limit(api: ApiContext, key: str) -> None:
    """The general per-caller limit, applied per source and per client; fails open."""
    try:
        hit = api.limiter.hit(key, limit=api.settings.api_rate_limit_per_minute, window_seconds=60)
    except LimiterUnavailable:
        return
    if not hit.allowed:
        raise TooManyRequests(hit.reset_after, "Rate limit exceeded")


def verify_delivery(
    api: ApiContext,
    project_id: str,
    source_id: str,
    body: bytes,
    timestamp: str | None,
    provided: str | None,
    client_ip: str,
) -> SignedDelivery:
    """Check a delivery: rate limits, source, timestamp, signature, enabled, not a replay.

    Every attempt counts against the client's address; only a correctly signed delivery
    counts against the source, so junk from anyone who knows the URL cannot use up the
    source's budget (it uses up the sender's own). An unknown source, another project's or a
    source that is not a webhook are the same 404.
    """
    if not (is_hex_id(project_id) and is_hex_id(source_id)):
        raise NotFound(SOURCE_NOT_FOUND)
    _limit(api, f"webhook-ip:{client_ip}")
    try:
        checked = signature.check_timestamp(timestamp, time.time())
    except signature.SignatureError as exc:
        raise SignatureRejected(str(exc)) from None
    record = SourceRepository(api.database).record(source_id)
    if (
        record is None
        or record.project.id != project_id
        or record.origin != "api"
        or not isinstance(record.spec, WebhookSource)
        or not record.secret_nonce
    ):
        raise NotFound(SOURCE_NOT_FOUND)
    secret = signature.derive_secret(jwt_secret(api.settings), record.id, record.secret_nonce)
    try:
        signature.check_signature(secret, str(checked), body, provided)
    except signature.SignatureError as exc:
        raise SignatureRejected(str(exc)) from None
    _limit(api, f"webhook:{source_id}")
    if not record.spec.enabled:
        raise Forbidden("Source is disabled")
    assert provided is not None
    try:
        seen = api.limiter.hit(
            signature.replay_key(provided), limit=1, window_seconds=REPLAY_WINDOW_SECONDS
        )
    except LimiterUnavailable:
        raise ServiceUnavailable("Replay protection is unavailable; retry later") from None
    if not seen.allowed:
        raise Conflict("This delivery was already received (same signature): sign it again")
    return SignedDelivery(record, body)


@cache
def _dedupe_settings(sources_file: Path | None) -> DedupeSettings:
    """The sources file's dedupe settings (read once per process), so pushed and polled items
    are compared alike."""
    try:
        return configured_sources(sources_file).dedupe
    except SourcesConfigError as exc:
        logger.warning("sources file not read, default dedupe settings: %s", exc)
        return DedupeSettings()


def parse_push(body: bytes) -> ItemsPush:
    """The delivery's items; ``ValidationError`` (→ 422) when the body is not one."""
    return ItemsPush.model_validate_json(body)


def push_items(api: ApiContext, delivery: SignedDelivery, push: ItemsPush) -> PushResult:
    results = take_in_push(
        api.database,
        delivery.source,
        [item.raw() for item in push.items],
        dedupe=_dedupe_settings(api.settings.sources_file),
        now=utcnow(),
    )
    items = [
        PushedItemResult(
            index=r.index,
            id=r.id,
            status=_STATUS[r.status],  # type: ignore[arg-type]
            duplicate_of=r.duplicate_of,
            reason=r.reason,
        )
        for r in results
    ]
    result = PushResult(
        accepted=sum(i.status == "accepted" for i in items),
        duplicates=sum(i.status == "duplicate" for i in items),
        skipped=sum(i.status == "skipped" for i in items),
        accepted_ids=[i.id for i in items if i.status == "accepted" and i.id],
        duplicate_ids=[i.id for i in items if i.status == "duplicate" and i.id],
        items=items,
    )
    logger.info(
        "webhook delivery project=%s source=%s accepted=%d duplicates=%d skipped=%d",
        delivery.source.project.id,
        delivery.source.id,
        result.accepted,
        result.duplicates,
        result.skipped,
    )
    return result
