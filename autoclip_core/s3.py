"""What the pipeline's S3 storage and the API's media routes share: a bucket's objects handed
out as presigned GET URLs.

The pipeline reaches S3 through dagster-aws's ``S3Resource``; the API, which does not import
Dagster, builds its own boto3 client here from the same settings. Region and credentials come
from boto3's usual chain (``AWS_REGION``/``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID``…,
profiles, instance roles).
"""

from __future__ import annotations

from typing import Any

import boto3

MAX_PRESIGN_SECONDS = 7 * 24 * 3600
"""SigV4's limit for a presigned URL's lifetime."""


def client(endpoint_url: str | None) -> Any:
    """A boto3 S3 client for AWS, or for the S3-compatible store at ``endpoint_url``."""
    return signing_v4(boto3.session.Session().client("s3", endpoint_url=endpoint_url))


def signing_v4(s3: Any) -> Any:
    """``s3`` signing every request and URL with SigV4: left to itself, boto3 still presigns
    us-east-1 URLs with SigV2, which AWS is retiring and S3-compatible stores often refuse. A
    signer chosen before (dagster-aws's unsigned sessions) still wins."""
    s3.meta.events.register("choose-signer.s3.*", _sigv4)
    return s3


def _sigv4(**_: Any) -> str:
    return "s3v4"


def presigned_get(s3: Any, bucket: str, key: str, expires_s: int) -> str:
    """A URL that GETs ``key`` without credentials for ``expires_s`` seconds (signed here, no
    request is made)."""
    if not 1 <= expires_s <= MAX_PRESIGN_SECONDS:
        raise ValueError(f"expires_s must be 1..{MAX_PRESIGN_SECONDS}, got {expires_s}")
    return str(
        s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_s
        )
    )
