"""The webhook's signature scheme (what a sender implements), and each source's signing key.

A delivery to ``POST /api/v1/projects/{project_id}/sources/{source_id}/items`` carries:

- ``X-AutoClip-Timestamp``: the time of signing, in unix seconds;
- ``X-AutoClip-Signature: sha256=<hex>``: HMAC-SHA256, keyed with the source's secret (the
  UTF-8 bytes of the ``whsec_…`` string returned once when the source was created), of
  ``"<timestamp>.<raw body>"`` — the timestamp as sent, a dot, the body bytes as sent.

The API refuses a timestamp more than ``TOLERANCE_SECONDS`` (5 minutes) away from its
clock, compares signatures in constant time, and accepts each signature once (a replay is
a 409). Sign every delivery afresh, retries included (new timestamp, new signature).

Secrets are not stored: a source's secret is derived from the server secret
(``AUTOCLIP_JWT_SECRET``) and the random ``secret_nonce`` of its row, so reading the
database alone does not let anyone sign. Rotating the server secret changes every
webhook secret (re-create the sources, or re-issue their secrets).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

TIMESTAMP_HEADER = "X-AutoClip-Timestamp"
SIGNATURE_HEADER = "X-AutoClip-Signature"
SCHEME = "sha256"
TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"
_KEY_LABEL = b"autoclip webhook signing key v1"
_TIMESTAMP = re.compile(r"^\d{1,12}$")
_SIGNATURE = re.compile(r"^sha256=([0-9a-f]{64})$")


class SignatureError(ValueError):
    """Why a delivery's signature is not accepted (the message is safe to return)."""


def new_nonce() -> str:
    return secrets.token_hex(16)


def derive_secret(server_secret: str, source_id: str, nonce: str) -> str:
    """The signing secret of a source (``whsec_`` + 43 base64url characters)."""
    message = b"\x00".join((_KEY_LABEL, source_id.encode(), nonce.encode()))
    digest = hmac.new(server_secret.encode(), message, hashlib.sha256).digest()
    return SECRET_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-AutoClip-Signature`` value of a delivery (what a sender computes)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def check_timestamp(timestamp: str | None, now: float) -> int:
    """The timestamp header as an int, if present, well-formed and within the tolerance."""
    if not timestamp or not _TIMESTAMP.match(timestamp):
        raise SignatureError(f"Missing or malformed {TIMESTAMP_HEADER} header (unix seconds)")
    value = int(timestamp)
    if abs(now - value) > TOLERANCE_SECONDS:
        raise SignatureError(
            f"{TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS} seconds from the server's "
            "time: sign every delivery when it is sent"
        )
    return value


def check_signature(secret: str, timestamp: str, body: bytes, signature: str | None) -> None:
    """Raise unless ``signature`` is this delivery's, compared in constant time."""
    match = _SIGNATURE.match(signature.strip().lower()) if signature else None
    if match is None:
        raise SignatureError(f"Missing or malformed {SIGNATURE_HEADER} header (sha256=<hex>)")
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected, f"{SCHEME}={match.group(1)}"):
        raise SignatureError("Invalid signature")


def replay_key(signature: str) -> str:
    """The rate-limit key under which a signature is remembered (a hash, not the value)."""
    return "webhook-seen:" + hashlib.sha256(signature.strip().lower().encode()).hexdigest()[:40]
