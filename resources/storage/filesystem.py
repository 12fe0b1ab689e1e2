from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from resources.errors import StorageError
from resources.storage.base import StorageResource, path_under, staged_file


class FilesystemStorage(StorageResource):
    """Media files under a local directory (the default: ``$AUTOCLIP_DATA_DIR/media``)."""

    root: str

    def _path(self, key: str) -> Path:
        return path_under(self.root, key)

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
        with staged_file(self._path(key), key) as tmp:
            yield tmp
