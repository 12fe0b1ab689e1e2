"""What a document is, what every backend does with one, and which backend is chosen."""

from __future__ import annotations

import json
import logging
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

logger = logging.getLogger("autoclip_core.documents")

Backend = Literal["table", "mongodb"]
MAX_FIND = 1000


@dataclass(frozen=True)
class Document:
    id: str
    kind: str
    """What it records, as a stable name (``llm_exchange``, ``safety_verdict``,
    ``vendor_calls``…)."""
    content_id: str | None
    created_at: datetime
    body: dict[str, Any]


def new_documents(
    kind: str, bodies: list[Mapping[str, Any]], content_id: str | None
) -> list[Document]:
    """Documents as every backend stores them: bodies as plain JSON (dates and other values
    as their text), the time in whole milliseconds (MongoDB's precision), so what a backend
    gives back equals what was put in. Ids begin with the time in nanoseconds, so documents
    made in the same millisecond still sort in the order they were made."""
    if not kind:
        raise ValueError("a document needs a kind")
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    first = time.time_ns()
    return [
        Document(
            f"{first + n:016x}{secrets.token_hex(8)}", kind, content_id, now,
            json.loads(json.dumps(dict(body), ensure_ascii=False, default=str)),
        )
        for n, body in enumerate(bodies)
    ]  # fmt: skip


class DocumentStore(ABC):
    """Append-only: documents are added and read, never changed."""

    def add(self, kind: str, body: Mapping[str, Any], *, content_id: str | None = None) -> Document:
        [document] = new_documents(kind, [body], content_id)
        self._insert([document])
        return document

    def add_many(
        self, kind: str, bodies: list[Mapping[str, Any]], *, content_id: str | None = None
    ) -> list[Document]:
        documents = new_documents(kind, bodies, content_id)
        if documents:
            self._insert(documents)
        return documents

    def keep(
        self, kind: str, bodies: list[Mapping[str, Any]], *, content_id: str | None = None
    ) -> bool:
        """``add_many`` for records a step makes on the side: a store that fails is logged,
        not raised (the step's own work is done, and may have been paid for)."""
        try:
            self.add_many(kind, bodies, content_id=content_id)
        except Exception as exc:
            logger.warning(
                "%s documents of %s not stored: %s: %s", kind, content_id, type(exc).__name__, exc
            )
            return False
        return True

    @abstractmethod
    def _insert(self, documents: list[Document]) -> None: ...

    @abstractmethod
    def get(self, document_id: str) -> Document | None: ...

    @abstractmethod
    def find(
        self, *, kind: str | None = None, content_id: str | None = None, limit: int = 100
    ) -> list[Document]:
        """Documents of ``kind`` and/or ``content_id``, oldest first, at most ``limit``."""

    def close(self) -> None:
        return None


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_FIND:
        raise ValueError(f"limit must be 1..{MAX_FIND}, got {limit}")
    return limit
