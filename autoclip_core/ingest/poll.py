"""What every source reader takes and returns.

A reader polls one source and returns *candidates*: raw items, each with an optional
enrichment (fetch the article, fetch the transcript) that the engine runs only for items
that turned out to be new. Readers raise ``SourceError`` (or a ``FetchError``/``FeedError``)
for a failed poll; the engine records it on the source and carries on with the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from autoclip_core.ingest.config import AuthHeader, Limits, YoutubeEndpoints
from autoclip_core.schemas import SourceItem

Enrichment = Callable[[SourceItem], tuple[SourceItem, str | None]]
"""Returns the enriched item and, when enrichment fell short, a note saying why."""


class SourceError(RuntimeError):
    """A poll that failed for a reason worth showing on the source."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Candidate:
    item: SourceItem
    enrich: Enrichment | None = None


@dataclass
class PollResult:
    candidates: list[Candidate] = field(default_factory=list)
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    cursor: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    commit: Callable[[set[str]], list[str]] | None = None
    """Run after registration with the ids that are now stored (or were already known);
    returns more notes. The drop folder moves its processed files here."""


@dataclass(frozen=True)
class PollContext:
    project: str
    source_id: str
    """The source's key within its project (its items' ids are derived from it)."""
    limits: Limits
    youtube: YoutubeEndpoints
    now: datetime


def auth_headers(auth: AuthHeader | None) -> dict[str, str]:
    """The auth header of a source, its secret read from the environment now (never logged)."""
    if auth is None:
        return {}
    secret = os.environ.get(auth.secret_env)
    if not secret:
        raise SourceError(f"secret environment variable {auth.secret_env} is not set")
    return {auth.header: f"{auth.prefix}{secret}"}
