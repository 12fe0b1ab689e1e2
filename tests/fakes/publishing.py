"""In-memory stand-ins for what a publisher is handed (journal, tokens, quota), for the tests
of a publisher client; the pipeline's own are backed by the app database
(``resources/publisher/accounts.py``)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from resources.errors import QuotaExhausted
from resources.publisher.base import OAuthTokens, QuotaLedger, TokenStore, UploadJournal


class MemoryJournal(UploadJournal):
    """Keeps what is saved; ``saves`` lists every call, in order."""

    def __init__(self, **values: Any) -> None:
        self.values: dict[str, Any] = dict(values)
        self.saves: list[dict[str, Any]] = []

    def load(self) -> dict[str, Any]:
        return copy.deepcopy(self.values)

    def save(self, **values: Any) -> None:
        json.dumps(values)  # what the database would refuse, refused here too
        self.saves.append(values)
        self.values.update(copy.deepcopy(values))


class MemoryTokenStore(TokenStore):
    """Tokens in memory; ``refreshing`` holds a thread lock. ``reconnect_reasons`` lists the
    reasons given to ``reconnect_required``."""

    def __init__(
        self,
        access_token: str | None = None,
        refresh_token: str | None = "refresh-1",
        expires_at: datetime | None = None,
    ) -> None:
        self.tokens = OAuthTokens(access_token, refresh_token, expires_at)
        self.lock = threading.Lock()
        self.saved: list[OAuthTokens] = []
        self.reconnect_reasons: list[str] = []

    def current(self) -> OAuthTokens:
        return self.tokens

    @contextmanager
    def refreshing(self) -> Iterator[OAuthTokens]:
        with self.lock:
            yield self.tokens

    def save(
        self, *, access_token: str, refresh_token: str | None, expires_at: datetime | None
    ) -> None:
        self.tokens = OAuthTokens(
            access_token, refresh_token or self.tokens.refresh_token, expires_at
        )
        self.saved.append(self.tokens)

    def reconnect_required(self, reason: str) -> None:
        self.reconnect_reasons.append(reason)


class MemoryQuota(QuotaLedger):
    """``limits``: units per operation name for one window (absent: unlimited); ``spent``
    counts what was charged. An exhausted window waits ``wait_s``."""

    def __init__(self, limits: dict[str, int] | None = None, *, wait_s: float = 3600.0) -> None:
        self.limits = dict(limits or {})
        self.spent: dict[str, int] = {}
        self.wait_s = wait_s

    def spend(self, operation: str, count: int = 1) -> None:
        used = self.spent.get(operation, 0)
        limit = self.limits.get(operation)
        if limit is not None and used + count > limit:
            raise QuotaExhausted(f"{operation}: quota used up", retry_after=self.wait_s)
        self.spent[operation] = used + count

    def exhausted(self, operation: str) -> None:
        self.limits[operation] = self.spent.get(operation, 0)
        raise QuotaExhausted(
            f"{operation}: the platform says the quota is used up", retry_after=self.wait_s
        )
