"""Paid answers kept on disk, so an item rerun (or regenerated after a template change) asks
no vendor twice.

A key is ``<provider>/<sha256>`` of the canonical JSON of (provider, model, prompt version,
payload): anything that changes the answer belongs in the payload. Files are written to a
temporary name and renamed, so a reader never sees half an answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class AnswerCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @staticmethod
    def key(provider: str, model: str, prompt_version: str, payload: Any) -> str:
        if not PROVIDER_NAME.match(provider):
            raise ValueError(f"not a provider name: {provider!r}")
        blob = canonical_json([provider, model, prompt_version, payload])
        return f"{provider}/{hashlib.sha256(blob.encode()).hexdigest()}"

    def _path(self, key: str, suffix: str) -> Path:
        provider, _, digest = key.partition("/")
        if not PROVIDER_NAME.match(provider) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / provider / digest[:2] / f"{digest}{suffix}"

    def get_bytes(self, key: str) -> bytes | None:
        try:
            return self._path(key, ".bin").read_bytes()
        except FileNotFoundError:
            return None

    def put_bytes(self, key: str, data: bytes) -> None:
        _write_atomic(self._path(key, ".bin"), data)

    def get_json(self, key: str) -> Any | None:
        try:
            raw = self._path(key, ".json").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return json.loads(raw)

    def put_json(self, key: str, value: Any) -> None:
        _write_atomic(self._path(key, ".json"), canonical_json(value).encode())


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
