"""S3 storage against a real S3-compatible server (moto in server mode, its own process)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from dagster_aws.s3 import S3Resource

from autoclip_core.settings import Settings
from resources.errors import StorageError
from resources.registry import ProviderConfigError, provider
from resources.storage.base import content_key, fingerprint
from resources.storage.s3 import MIB, S3Storage
from tests.fakes.s3 import S3FaultProxy, new_bucket, s3_for_tests
from tests.resources.storage.helpers import crash_while_writing


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with s3_for_tests() as origin:
        yield origin


@pytest.fixture
def bucket(endpoint: str) -> str:
    return new_bucket(endpoint)


def s3_storage(
    endpoint: str, bucket: str, cache: Path, *, max_attempts: int = 5, **fields: Any
) -> S3Storage:
    return S3Storage(
        s3=S3Resource(endpoint_url=endpoint, max_attempts=max_attempts),
        bucket=bucket,
        cache_dir=str(cache),
        **fields,
    )


def test_a_written_file_is_uploaded_only_when_the_block_succeeds(
    endpoint: str, bucket: str, tmp_path: Path
) -> None:
    storage = s3_storage(endpoint, bucket, tmp_path / "cache")
    key = content_key("video", fingerprint("x"), ".mp4")
    assert not storage.exists(key)
    with storage.writing(key) as tmp:
        tmp.write_bytes(b"\x00\x00\x00\x18ftypmp42")
        assert not storage.exists(key)
    assert storage.exists(key)
    assert storage.size(key) == 12
    head = boto3.client("s3", endpoint_url=endpoint).head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "video/mp4"

    elsewhere = s3_storage(endpoint, bucket, tmp_path / "other-cache")
    path = elsewhere.local_path(key)
    assert path == (tmp_path / "other-cache" / key).resolve()
    assert path.read_bytes() == b"\x00\x00\x00\x18ftypmp42"


def test_a_failed_write_uploads_nothing_and_leaves_no_file(
    endpoint: str, bucket: str, tmp_path: Path
) -> None:
    storage = s3_storage(endpoint, bucket, tmp_path / "cache")
    crash_while_writing(storage, "video/aa/aa.mp4")
    assert not storage.exists("video/aa/aa.mp4")
    listed = boto3.client("s3", endpoint_url=endpoint).list_objects_v2(Bucket=bucket)
    assert listed["KeyCount"] == 0
    assert list((tmp_path / "cache" / "video" / "aa").iterdir()) == []


def test_a_large_render_goes_up_in_multipart_parts_and_comes_back_whole(
    endpoint: str, bucket: str, tmp_path: Path
) -> None:
    storage = s3_storage(
        endpoint, bucket, tmp_path / "cache",
        multipart_threshold_bytes=5 * MIB, multipart_chunk_bytes=5 * MIB,
    )  # fmt: skip
    data = os.urandom(12 * MIB)
    with storage.writing("video/bb/big.mp4") as tmp:
        tmp.write_bytes(data)
    head = boto3.client("s3", endpoint_url=endpoint).head_object(
        Bucket=bucket, Key="video/bb/big.mp4"
    )
    # S3 names a multipart object's ETag "<md5 of the parts' md5s>-<number of parts>".
    assert head["ETag"].strip('"').endswith("-3")
    fresh = s3_storage(endpoint, bucket, tmp_path / "fresh")
    assert hashlib.sha256(fresh.local_path("video/bb/big.mp4").read_bytes()).digest() == (
        hashlib.sha256(data).digest()
    )


def test_a_presigned_url_gets_the_file_without_credentials(
    endpoint: str, bucket: str, tmp_path: Path
) -> None:
    storage = s3_storage(endpoint, bucket, tmp_path / "cache")
    storage.put_bytes("video/cc/clip.mp4", b"movie bytes")
    url = storage.presigned_url("video/cc/clip.mp4", expires_s=600)
    assert url.startswith(f"{endpoint}/{bucket}/video/cc/clip.mp4?")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    assert "X-Amz-Expires=600" in url
    answer = httpx.get(url)
    assert answer.status_code == 200
    assert answer.content == b"movie bytes"
    ranged = httpx.get(url, headers={"Range": "bytes=0-4"})
    assert (ranged.status_code, ranged.content) == (206, b"movie")


def test_a_missing_object_is_a_final_not_in_storage_error(
    endpoint: str, bucket: str, tmp_path: Path
) -> None:
    storage = s3_storage(endpoint, bucket, tmp_path / "cache")
    with pytest.raises(StorageError, match=r"not in storage: video/dd/none\.mp4") as raised:
        storage.local_path("video/dd/none.mp4")
    assert raised.value.retryable is False
    with pytest.raises(StorageError, match="not in storage"):
        storage.size("video/dd/none.mp4")


def test_keys_cannot_escape_the_cache(endpoint: str, bucket: str, tmp_path: Path) -> None:
    storage = s3_storage(endpoint, bucket, tmp_path / "cache")
    with pytest.raises(StorageError, match="escapes"):
        storage.exists("../../etc/passwd")


def test_a_missing_bucket_is_a_clear_final_error(endpoint: str, tmp_path: Path) -> None:
    storage = s3_storage(endpoint, "no-such-bucket", tmp_path / "cache")
    with pytest.raises(StorageError) as raised:
        storage.put_bytes("video/ee/e.mp4", b"x")
    assert str(raised.value) == (
        f"upload video/ee/e.mp4: S3 bucket 'no-such-bucket' at {endpoint} does not exist "
        "(AUTOCLIP_S3_BUCKET)"
    )
    assert raised.value.retryable is False


def test_missing_credentials_are_a_clear_final_error(
    endpoint: str, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    storage = s3_storage(endpoint, bucket, tmp_path / "cache")
    with pytest.raises(StorageError, match="no usable AWS credentials") as raised:
        storage.exists("video/ff/f.mp4")
    assert "AWS_ACCESS_KEY_ID" in str(raised.value)
    assert raised.value.retryable is False
    with pytest.raises(StorageError, match="no usable AWS credentials"):
        storage.presigned_url("video/ff/f.mp4")


def test_a_5xx_that_passes_is_retried_and_one_that_lasts_is_a_retryable_error(
    endpoint: str, bucket: str, tmp_path: Path
) -> None:
    with S3FaultProxy(endpoint) as proxy:
        storage = s3_storage(proxy.origin, bucket, tmp_path / "cache", max_attempts=2)
        proxy.fail(1)
        storage.put_bytes("video/gg/g.mp4", b"survives one 503")
        assert proxy.failed == 1
        assert storage.size("video/gg/g.mp4") == 16

        proxy.fail(-1)
        with pytest.raises(StorageError, match="answered 503: Service Unavailable") as raised:
            storage.exists("video/gg/g.mp4")
        assert raised.value.retryable is True
        with pytest.raises(StorageError, match="answered 503 SlowDown: Please reduce") as raised:
            storage.put_bytes("video/gg/h.mp4", b"x")
        assert raised.value.retryable is True
        proxy.fail(0)
        assert not storage.exists("video/gg/h.mp4")


def test_the_registry_builds_s3_storage_from_the_settings(tmp_path: Path) -> None:
    chosen = provider(
        "storage",
        Settings(
            data_dir=tmp_path, storage_provider="s3", s3_bucket="media",
            s3_endpoint_url="http://127.0.0.1:9000",
        ),
    )  # fmt: skip
    assert isinstance(chosen, S3Storage)
    assert (chosen.bucket, chosen.s3.endpoint_url) == ("media", "http://127.0.0.1:9000")
    assert chosen.cache_dir == str(tmp_path / "s3-cache")
    with pytest.raises((ProviderConfigError, ValueError), match="AUTOCLIP_S3_BUCKET"):
        provider("storage", Settings(data_dir=tmp_path, storage_provider="s3"))
