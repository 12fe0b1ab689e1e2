"""Logging that cannot leak credentials.

Handlers never see a password, token or secret: the code does not log them, and this filter
redacts anything shaped like one (JWTs, ``Bearer …``, ``password=…``-style pairs) from every
record of the loggers it is installed on, as a second line of defence.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_PATTERNS = (
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    (
        re.compile(
            r"(?i)([\"']?(?:password|passwd|secret|token|code_verifier|client_secret|"
            r"refresh_token|access_token|authorization)[\"']?\s*[:=]\s*)"
            r"(\"[^\"]*\"|'[^']*'|[^\s,&}]+)"
        ),
        r"\1[redacted]",
    ),
)
LOGGERS = ("autoclip_api", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore")


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                return True
            record.msg, record.args = redact(message), None
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


_FILTER = RedactingFilter()


def install_redaction(*names: str) -> None:
    for name in names or LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def log_fields(**fields: Any) -> str:
    return " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
