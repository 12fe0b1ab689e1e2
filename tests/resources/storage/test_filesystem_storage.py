from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from resources.errors import StorageError
from resources.storage.base import content_key, fingerprint
from resources.storage.filesystem import FilesystemStorage
from tests.resources.storage.helpers import crash_while_writing


class Part(BaseModel):
    text: str


def test_fingerprint_is_stable_and_sensitive_to_every_part() -> None:
    assert fingerprint("a", Part(text="x"), [1, 2]) == fingerprint("a", Part(text="x"), [1, 2])
    assert fingerprint("a", Part(text="x")) != fingerprint("a", Part(text="y"))
    assert fingerprint({"b": 1, "a": 2}) == fingerprint({"a": 2, "b": 1})


def test_written_file_appears_atomically_under_its_key(tmp_path: Path) -> None:
    storage = FilesystemStorage(root=str(tmp_path))
    key = content_key("narration", fingerprint("x"), ".wav")
    assert not storage.exists(key)
    with storage.writing(key) as tmp:
        assert not storage.exists(key)
        tmp.write_bytes(b"RIFF")
    assert storage.read_bytes(key) == b"RIFF"
    assert storage.size(key) == 4


def test_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    storage = FilesystemStorage(root=str(tmp_path))
    crash_while_writing(storage, "video/aa/aa.mp4")
    assert not storage.exists("video/aa/aa.mp4")
    assert list((tmp_path / "video" / "aa").iterdir()) == []


def test_keys_cannot_escape_the_storage_root(tmp_path: Path) -> None:
    storage = FilesystemStorage(root=str(tmp_path / "media"))
    with pytest.raises(StorageError, match="escapes"):
        storage.exists("../../etc/passwd")


def test_a_missing_key_is_a_final_storage_error(tmp_path: Path) -> None:
    storage = FilesystemStorage(root=str(tmp_path))
    with pytest.raises(StorageError, match=r"not in storage: video/aa/aa\.mp4") as raised:
        storage.local_path("video/aa/aa.mp4")
    assert raised.value.retryable is False


def test_the_filesystem_gives_no_presigned_url_and_says_s3_is_needed(tmp_path: Path) -> None:
    storage = FilesystemStorage(root=str(tmp_path))
    storage.put_bytes("video/aa/aa.mp4", b"x")
    with pytest.raises(StorageError, match="AUTOCLIP_STORAGE_PROVIDER=s3") as raised:
        storage.presigned_url("video/aa/aa.mp4")
    assert raised.value.retryable is False
