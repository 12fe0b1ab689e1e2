from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from resources.errors import StorageError
from resources.storage.base import StorageResource


class FilesystemStorage(StorageResource):
    """Media files under a local directory (the default: ``$AUTOCLIP_DATA_DIR/media``)."""

    root: str

    def _path(self, key: str) -> Path:
        root = Path(self.root).resolve()
        path = (root / key).resolve()
        if root not in path.parents:
            raise StorageError(f"storage key escapes the storage root: {key!r}")
        return path

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"not in storage: {key}")
        return path

    def size(self, key: str) -> int:
        return self.local_path(key).stat().st_size

    @contextmanager
    def writing(self, key: str) -> Iterator[Path]:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{uuid.uuid4().hex}.tmp{final.suffix}")
        try:
            yield tmp
            if not tmp.is_file():
                raise StorageError(f"nothing was written for {key}")
            os.replace(tmp, final)
        finally:
            with suppress(FileNotFoundError):
                tmp.unlink()
