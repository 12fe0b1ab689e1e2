"""The token-signing secret: from settings, or (local mode only) generated once and kept."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from autoclip_core.settings import Settings


class MissingSecretError(RuntimeError):
    pass


def jwt_secret(settings: Settings) -> str:
    """``AUTOCLIP_JWT_SECRET``; in local mode without one, ``<data_dir>/secrets/jwt_secret``.

    Outside local mode a missing secret stops the API from starting (a placeholder one is
    already refused when the settings load).
    """
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    if settings.env != "local":
        raise MissingSecretError(
            f"AUTOCLIP_JWT_SECRET must be set when AUTOCLIP_ENV={settings.env} "
            "(a random value of at least 32 characters)"
        )
    return _local_secret(settings.root / "secrets" / "jwt_secret")


def _local_secret(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another worker may be writing it right now
            value = path.read_text().strip()
            if len(value) >= 32:
                return value
            time.sleep(0.02)
        raise MissingSecretError(f"{path} is shorter than 32 characters; delete it") from None
    value = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value
