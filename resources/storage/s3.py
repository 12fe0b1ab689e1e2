"""Media in an S3 bucket (AWS, or an S3-compatible store at ``AUTOCLIP_S3_ENDPOINT_URL``),
reached through dagster-aws's ``S3Resource``.

Keys are the same content-addressed keys as on the filesystem. The tools that read media
(ffmpeg, Pillow, the probe) need files, so every object read or written is also kept in a
local cache under the same key: a content-addressed key names the same bytes forever, so a
cached file is never stale. ``writing`` uploads only when the block succeeds (large files in
parallel multipart parts), then moves the file into the cache; readers of the bucket see the
whole object or nothing.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from dagster_aws.s3 import S3Resource
from pydantic import PrivateAttr

from autoclip_core.s3 import presigned_get, signing_v4
from autoclip_core.settings import Settings
from resources.errors import StorageError
from resources.storage.base import StorageResource, path_under, staged_file

MIB = 1024 * 1024
MIN_PART_BYTES = 5 * MIB
"""S3's smallest multipart part (all but the last)."""
RETRYABLE_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling"}
)
CREDENTIAL_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
     "InvalidToken", "TokenRefreshRequired"}
)  # fmt: skip
NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class S3Storage(StorageResource):
    """Media in ``bucket``; ``cache_dir`` holds the local copies the renderer reads."""

    s3: S3Resource
    bucket: str
    cache_dir: str
    multipart_threshold_bytes: int = 16 * MIB
    multipart_chunk_bytes: int = 8 * MIB

    _client: Any = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        if not settings.s3_bucket:
            raise ValueError("AUTOCLIP_STORAGE_PROVIDER=s3 needs AUTOCLIP_S3_BUCKET")
        return cls(
            s3=S3Resource(endpoint_url=settings.s3_endpoint_url),
            bucket=settings.s3_bucket,
            cache_dir=str(settings.root / "s3-cache"),
        )

    def client(self) -> Any:
        """The boto3 client (one per resource instance; boto3 clients are thread-safe)."""
        if self._client is None:
            self._client = signing_v4(self.s3.get_client())
        return self._client

    def _transfer(self) -> TransferConfig:
        return TransferConfig(
            multipart_threshold=max(self.multipart_threshold_bytes, MIN_PART_BYTES),
            multipart_chunksize=max(self.multipart_chunk_bytes, MIN_PART_BYTES),
        )

    def _cached(self, key: str) -> Path:
        return path_under(self.cache_dir, key)

    def _head(self, key: str) -> dict[str, Any] | None:
        """The object's metadata, None when there is no such object."""
        try:
            return dict(self.client().head_object(Bucket=self.bucket, Key=key))
        except ClientError as exc:
            if _code(exc) in NOT_FOUND_CODES:
                return None
            raise self._error(exc, f"HEAD {key}") from exc
        except BotoCoreError as exc:
            raise self._error(exc, f"HEAD {key}") from exc

    def exists(self, key: str) -> bool:
        self._cached(key)  # a key that escapes is refused here as on the filesystem
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise StorageError(f"not in storage: {key}")
        return int(head["ContentLength"])

    def local_path(self, key: str) -> Path:
        cached = self._cached(key)
        if cached.is_file():
            return cached
        try:
            with staged_file(cached, key) as tmp:
                self.client().download_file(self.bucket, key, str(tmp), Config=self._transfer())
        except ClientError as exc:
            if _code(exc) in NOT_FOUND_CODES:
                raise StorageError(f"not in storage: {key}") from exc
            raise self._error(exc, f"download {key}") from exc
        except BotoCoreError as exc:
            raise self._error(exc, f"download {key}") from exc
        return cached

    @contextmanager
    def writing(self, key: str) -> Iterator[Path]:
        with staged_file(self._cached(key), key, lambda tmp: self._upload(tmp, key)) as tmp:
            yield tmp

    def _upload(self, path: Path, key: str) -> None:
        media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        try:
            self.client().upload_file(
                str(path), self.bucket, key,
                ExtraArgs={"ContentType": media_type}, Config=self._transfer(),
            )  # fmt: skip
        except S3UploadFailedError as exc:
            # boto3 keeps the S3 error only as the context of its own.
            cause = exc.__cause__ or exc.__context__
            raise self._error(cause if cause is not None else exc, f"upload {key}") from exc
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, f"upload {key}") from exc

    def presigned_url(self, key: str, expires_s: int = 3600) -> str:
        try:
            return presigned_get(self.client(), self.bucket, key, expires_s)
        except BotoCoreError as exc:
            raise self._error(exc, f"presign {key}") from exc

    def _error(self, exc: BaseException, action: str) -> StorageError:
        return storage_error(exc, action, self.bucket, self.s3.endpoint_url)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def storage_error(
    exc: BaseException, action: str, bucket: str, endpoint_url: str | None
) -> StorageError:
    """One S3 failure as a ``StorageError``: the server's 5xx, throttling and lost connections
    may pass (retryable); a missing bucket, refused or absent credentials will not."""
    where = f"S3 bucket {bucket!r}" + (f" at {endpoint_url}" if endpoint_url else "")
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return StorageError(
            f"{action}: no usable AWS credentials for {where} ({exc}); set AWS_ACCESS_KEY_ID "
            "and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or give the process a role"
        )
    if isinstance(exc, ConnectionError | HTTPClientError):
        return StorageError(f"{action}: {where} unreachable: {exc}", retryable=True)
    if not isinstance(exc, ClientError):
        return StorageError(f"{action} in {where}: {type(exc).__name__}: {exc}")
    code = _code(exc)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    message = exc.response.get("Error", {}).get("Message") or str(exc)
    if code == "NoSuchBucket":
        return StorageError(f"{action}: {where} does not exist (AUTOCLIP_S3_BUCKET)")
    if code in CREDENTIAL_CODES or status == 403:
        return StorageError(
            f"{action}: {where} refused the AWS credentials: {code or status}: {message}"
        )
    # A HEAD answer has no body: its code is only the status.
    answered = f"{action}: {where} answered {status}" + (f" {code}" if code != str(status) else "")
    return StorageError(
        f"{answered}: {message}", retryable=code in RETRYABLE_CODES or status >= 500
    )
