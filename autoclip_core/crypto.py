"""Secrets at rest: channel OAuth tokens sealed with AES-GCM under a key from the settings.

Every ciphertext is bound to what it belongs to (associated data: the organisation, the
channel and the column), so a ciphertext copied to another channel, another organisation or
the other token column does not decrypt. The key is ``AUTOCLIP_CHANNEL_TOKEN_KEY`` (base64 of
32 random bytes); in local and test mode without one, a key generated once is kept in
``<data_dir>/secrets/channel_token_key``. In prod a missing key stops the API from starting.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from autoclip_core.settings import Settings

KEY_BYTES = 32
NONCE_BYTES = 12
FORMAT_VERSION = b"\x01"
"""First byte of every ciphertext: which layout (and key use) sealed it."""


class MissingKeyError(RuntimeError):
    """No usable key: the message says which setting to give."""


class TokenDecryptError(ValueError):
    """The ciphertext is not one this key sealed for this organisation, channel and column."""


def decode_key(encoded: str) -> bytes:
    """The 32 key bytes of a base64 (standard or URL-safe) value; ValueError otherwise."""
    try:
        key = base64.b64decode(encoded.strip().replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key


def channel_token_key(settings: Settings) -> bytes:
    """``AUTOCLIP_CHANNEL_TOKEN_KEY``, or (local and test mode) the generated local key."""
    if settings.channel_token_key is not None:
        return decode_key(settings.channel_token_key.get_secret_value())
    if settings.env == "prod":
        raise MissingKeyError(
            "AUTOCLIP_CHANNEL_TOKEN_KEY must be set when AUTOCLIP_ENV=prod "
            "(base64 of 32 random bytes: `openssl rand -base64 32`)"
        )
    return decode_key(
        local_secret(local_key_path(settings),
                     lambda: base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode(),
                     valid=lambda value: len(value) == 44)
    )  # fmt: skip


def local_key_path(settings: Settings) -> Path:
    """Where local and test mode keep the generated channel token key."""
    return settings.root / "secrets" / "channel_token_key"


def local_secret(path: Path, generate: Callable[[], str], *, valid: Callable[[str], bool]) -> str:
    """The secret kept in ``path`` (owner-only), generated there by the first process to ask;
    a process that finds it being written waits for it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            value = path.read_text().strip()
            if valid(value):
                return value
            time.sleep(0.02)
        raise MissingKeyError(f"{path} does not hold a usable secret; delete it") from None
    value = generate()
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value


class TokenCipher:
    """Seals and opens channel tokens: ``version ‖ nonce ‖ AES-256-GCM(ciphertext ‖ tag)``."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a token key has {KEY_BYTES} bytes")
        self._aead = AESGCM(key)

    @staticmethod
    def associated_data(org_id: str, channel_id: str, column: str) -> bytes:
        return "\x00".join(("autoclip/channel-token/v1", org_id, channel_id, column)).encode()

    def encrypt(self, plaintext: str, *, org_id: str, channel_id: str, column: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(
            nonce, plaintext.encode(), self.associated_data(org_id, channel_id, column)
        )
        return FORMAT_VERSION + nonce + sealed

    def decrypt(self, ciphertext: bytes, *, org_id: str, channel_id: str, column: str) -> str:
        if ciphertext[:1] != FORMAT_VERSION or len(ciphertext) < 1 + NONCE_BYTES + 16:
            raise TokenDecryptError("not a sealed channel token")
        nonce, sealed = ciphertext[1 : 1 + NONCE_BYTES], ciphertext[1 + NONCE_BYTES :]
        try:
            plain = self._aead.decrypt(
                nonce, sealed, self.associated_data(org_id, channel_id, column)
            )
        except InvalidTag:
            raise TokenDecryptError(
                "the token does not open for this organisation, channel and column"
            ) from None
        return plain.decode()
