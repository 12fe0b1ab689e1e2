"""What an e-mail is, and what a provider does with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class MailError(RuntimeError):
    """The provider could not take the message (its server refused it or is unreachable)."""


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    kind: str
    """What it is for, as a stable name (``verify_email``, ``password_reset``...)."""
    links: dict[str, str] = field(default_factory=dict)
    """The actions it offers (``verify``: URL), for readers of the log outbox."""


class MailProvider(Protocol):
    name: str

    def send(self, message: EmailMessage, sender: str) -> None:
        """Delivers the message or raises :class:`MailError`."""
        ...

    def close(self) -> None: ...
