"""Security notices to account holders ("someone is trying to sign in as you").

The API hands each notice to ``ApiContext.notifier``. The notifier logs it for the operators
(a structured line their alerting can pick up) and mails it to the account's address through
the ``email`` capability.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from autoclip_api.auth.mails import notice_mail
from autoclip_api.core.logs import log_fields
from autoclip_api.email.mailer import Mailer

logger = logging.getLogger("autoclip_api.notices")


@dataclass(frozen=True, slots=True)
class SecurityNotice:
    user_id: str
    email: str
    """Where the account holder is told (for an address change: the old one)."""
    event: str
    """What happened, as a stable dotted name (``login.repeated_failures``)."""
    details: Mapping[str, str | int] = field(default_factory=dict)


class Notifier(Protocol):
    def notify(self, notice: SecurityNotice) -> None: ...


class MailNotifier:
    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def notify(self, notice: SecurityNotice) -> None:
        # Addresses stay out of the log (they are in the mail).
        logged = {k: v for k, v in notice.details.items() if "email" not in k}
        logger.info(
            "notice event=%s user=%s %s", notice.event, notice.user_id, log_fields(**logged)
        )
        self.mailer.send(notice_mail(notice.email, notice.event, notice.details))
