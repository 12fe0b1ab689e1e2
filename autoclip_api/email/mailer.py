"""The mailer the API sends through: messages go to the provider on a worker thread."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from autoclip_api.core.ratelimit import hashed
from autoclip_api.email.base import EmailMessage, MailError, MailProvider
from autoclip_api.email.log import LogMailProvider, outbox_path
from autoclip_api.email.sendgrid import SendGridConfig, SendGridMailProvider
from autoclip_api.email.smtp import SmtpConfig, SmtpMailProvider
from autoclip_core.settings import Settings

logger = logging.getLogger("autoclip_api.email")


def provider_from_settings(settings: Settings) -> MailProvider:
    """``AUTOCLIP_EMAIL_PROVIDER`` (log, smtp or sendgrid); unset, SMTP when a server is
    configured and the log outbox otherwise. ValueError when the chosen one lacks its
    configuration."""
    chosen = settings.email_provider
    if chosen == "sendgrid":
        return SendGridMailProvider(SendGridConfig.from_settings(settings))
    smtp = SmtpConfig.from_settings(settings) if chosen != "log" else None
    if chosen == "smtp" and smtp is None:
        raise ValueError(
            "AUTOCLIP_EMAIL_PROVIDER=smtp needs AUTOCLIP_SMTP_URL or AUTOCLIP_SMTP_HOST"
        )
    return SmtpMailProvider(smtp) if smtp else LogMailProvider(outbox_path(settings.root))


class Mailer:
    """Sends in the background: a request that mails answers as fast as one that does not
    (the same answer for known and unknown addresses holds for its timing too), and a slow
    mail server delays no one. A failed delivery is logged (without the message: it holds a
    token)."""

    def __init__(self, provider: MailProvider, sender: str) -> None:
        self.provider = provider
        self.sender = sender
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailer")

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer:
        return cls(provider_from_settings(settings), settings.mail_from)

    def send(self, message: EmailMessage) -> Future[None]:
        return self._pool.submit(self._deliver, message)

    def _deliver(self, message: EmailMessage) -> None:
        # The address is logged hashed: logs are read by more people than mailboxes are.
        to = hashed(message.to)
        try:
            self.provider.send(message, self.sender)
        except MailError as exc:
            logger.warning(
                "mail not delivered kind=%s to=%s provider=%s reason=%s",
                message.kind, to, self.provider.name, exc,
            )  # fmt: skip
            return
        logger.info("mail sent kind=%s to=%s provider=%s", message.kind, to, self.provider.name)

    def flush(self, timeout: float = 30.0) -> None:
        """Waits until everything sent so far was handed to the provider (one worker: in
        order)."""
        self._pool.submit(lambda: None).result(timeout)

    def close(self) -> None:
        """Delivers what is queued, then stops."""
        self._pool.shutdown(wait=True)
        self.provider.close()
