"""Storage capability: content-addressed media files.

Keys look like ``narration/ab/ab12….wav``: the name is a fingerprint of everything that
determines the file, so an unchanged input finds its output already stored and is
never recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import dagster as dg

from resources.errors import StorageError


def fingerprint(*parts: Any) -> str:
    """Stable sha256 of JSON-serialisable parts (pydantic models via ``model_dump``)."""

    def encode(value: Any) -> Any:
        if hasattr(value, "model_dump"):
            return value.model_dump(mode="json")
        if isinstance(value, Path):
            return str(value)
        return value

    payload = json.dumps(
        [encode(p) for p in parts], sort_keys=True, ensure_ascii=False, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def content_key(namespace: str, digest: str, suffix: str) -> str:
    return f"{namespace}/{digest[:2]}/{digest}{suffix}"


def path_under(root: str | Path, key: str) -> Path:
    """Where ``key`` lives below the local folder ``root``; a key that would leave it (``..``,
    an absolute path) is refused."""
    base = Path(root).resolve()
    path = (base / key).resolve()
    if base not in path.parents:
        raise StorageError(f"storage key escapes the storage root: {key!r}")
    return path


@contextmanager
def staged_file(
    final: Path, key: str, publish: Callable[[Path], None] | None = None
) -> Iterator[Path]:
    """A temp file beside ``final`` to write; when the block succeeds it is handed to
    ``publish`` (an upload) and then renamed to ``final`` in one step, so a reader sees the
    whole file or none. A failed block, or a failed ``publish``, leaves nothing behind."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{uuid.uuid4().hex}.tmp{final.suffix}")
    try:
        yield tmp
        if not tmp.is_file():
            raise StorageError(f"nothing was written for {key}")
        if publish is not None:
            publish(tmp)
        os.replace(tmp, final)
    finally:
        with suppress(FileNotFoundError):
            tmp.unlink()


class StorageResource(dg.ConfigurableResource, ABC):
    """Where media lives. Keys are relative POSIX paths; failures raise ``StorageError``."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def local_path(self, key: str) -> Path:
        """A readable local path for ``key`` (remote stores download to a cache)."""

    @abstractmethod
    def size(self, key: str) -> int: ...

    @abstractmethod
    @contextmanager
    def writing(self, key: str) -> Iterator[Path]:
        """Yield a temp path to write; on success it becomes ``key`` atomically."""

    def presigned_url(self, key: str, expires_s: int = 3600) -> str:
        """A URL anyone holding it can GET ``key`` from for ``expires_s`` seconds.

        Only a remote store can hand one out (previews, a platform pulling the video
        itself); the local filesystem has no URL to give.
        """
        raise StorageError(
            f"{type(self).__name__} cannot give a URL for {key!r}: presigned URLs need "
            "AUTOCLIP_STORAGE_PROVIDER=s3"
        )

    def put_bytes(self, key: str, data: bytes) -> str:
        with self.writing(key) as tmp:
            tmp.write_bytes(data)
        return key

    def read_bytes(self, key: str) -> bytes:
        return self.local_path(key).read_bytes()
