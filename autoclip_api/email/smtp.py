"""The SMTP provider: one connection per message (mail is rare: sign-ups, resets, notices).

Configured by ``AUTOCLIP_SMTP_URL`` (``smtp://`` STARTTLS on 587, ``smtps://`` TLS on 465,
``smtp+plain://`` unencrypted on 25; user and password in the URL, percent-encoded) or by
``AUTOCLIP_SMTP_HOST`` with ``_PORT``, ``_USER``, ``_PASSWORD`` and ``_SECURITY``; a
separate ``AUTOCLIP_SMTP_PASSWORD`` wins over one in the URL. TLS certificates are verified.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid
from typing import Literal
from urllib.parse import unquote, urlsplit

from autoclip_api.email.base import EmailMessage, MailError
from autoclip_core.settings import Settings

Security = Literal["starttls", "tls", "plain"]
TIMEOUT_SECONDS = 10.0
_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("starttls", 587),
    "smtps": ("tls", 465),
    "smtp+plain": ("plain", 25),
}


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    security: Security
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """The configured server, or None (no SMTP: the log sink). ValueError when the
        configuration is unusable, or unencrypted in prod."""
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        if settings.smtp_url is not None:
            config = cls.from_url(settings.smtp_url.get_secret_value())
            if password is not None:
                config = cls(config.host, config.port, config.security, config.user, password)
        elif settings.smtp_host:
            config = cls(
                settings.smtp_host,
                settings.smtp_port,
                settings.smtp_security,
                settings.smtp_user,
                password,
            )
        else:
            return None
        if config.security == "plain" and settings.env == "prod":
            raise ValueError("unencrypted SMTP is refused in prod: use smtp:// or smtps://")
        return config

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES or not parts.hostname:
            raise ValueError("AUTOCLIP_SMTP_URL must be smtp://, smtps:// or smtp+plain://host")
        security, default_port = _SCHEMES[scheme]
        try:
            port = parts.port or default_port
        except ValueError:
            raise ValueError("AUTOCLIP_SMTP_URL has an invalid port") from None
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        return cls(parts.hostname, port, security, user, password)


class SmtpMailProvider:
    name = "smtp"

    def __init__(self, config: SmtpConfig, context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self._context = context or ssl.create_default_context()

    def send(self, message: EmailMessage, sender: str) -> None:
        try:
            with self._connect() as smtp:
                if self.config.user is not None:
                    smtp.login(self.config.user, self.config.password or "")
                smtp.send_message(mime(message, sender))
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"{type(exc).__name__}: {exc}") from exc

    def _connect(self) -> smtplib.SMTP:
        host, port = self.config.host, self.config.port
        if self.config.security == "tls":
            return smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS, context=self._context)
        smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
        try:
            if self.config.security == "starttls":
                smtp.starttls(context=self._context)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        return None


def mime(message: EmailMessage, sender: str) -> MimeMessage:
    """The message as sent: plain UTF-8 text."""
    mail = MimeMessage()
    mail["From"] = sender
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="autoclip")
    mail.set_content(message.text)
    return mail
