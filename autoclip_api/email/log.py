"""The default provider: every message as one JSON line in ``<data dir>/mail/outbox.jsonl``.

Nothing leaves the machine; the demo and the tests read the links from the file. It holds
live single-use tokens, so it is created readable by its owner only.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from autoclip_api.email.base import EmailMessage

OUTBOX_NAME = "outbox.jsonl"


def outbox_path(data_dir: Path) -> Path:
    return data_dir / "mail" / OUTBOX_NAME


class LogMailProvider:
    name = "log"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, message: EmailMessage, sender: str) -> None:
        line = json.dumps(
            {"at": datetime.now(UTC).isoformat(), "from": sender, **asdict(message)},
            ensure_ascii=False,
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(descriptor, "a", encoding="utf-8") as outbox:
                outbox.write(line + "\n")

    def close(self) -> None:
        return None
