from __future__ import annotations

import pytest

from resources.storage.base import StorageResource


def crash_while_writing(storage: StorageResource, key: str) -> None:
    """A render that has written part of ``key`` when it crashes."""

    def render() -> None:
        with storage.writing(key) as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("render crashed")

    with pytest.raises(RuntimeError, match="render crashed"):
        render()
