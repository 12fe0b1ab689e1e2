"""Security notices to account holders ("someone is trying to sign in as you").

The API hands each notice to ``ApiContext.notifier``. The default notifier writes it to the
log, where an operator's alerting can pick it up; delivering it to the user by e-mail is the
job of a notifier built on the e-mail capability.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from autoclip_api.core.logs import log_fields

logger = logging.getLogger("autoclip_api.notices")


@dataclass(frozen=True, slots=True)
class SecurityNotice:
    user_id: str
    event: str
    """What happened, as a stable dotted name (``login.repeated_failures``)."""
    details: Mapping[str, str | int] = field(default_factory=dict)


class Notifier(Protocol):
    def notify(self, notice: SecurityNotice) -> None: ...


class LogNotifier:
    def notify(self, notice: SecurityNotice) -> None:
        logger.info(
            "notice event=%s user=%s %s", notice.event, notice.user_id, log_fields(**notice.details)
        )
