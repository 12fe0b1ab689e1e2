"""The SendGrid provider: each message is one ``POST /v3/mail/send`` (Twilio SendGrid's v3
Mail Send API), chosen with ``AUTOCLIP_EMAIL_PROVIDER=sendgrid`` and keyed by
``SENDGRID_API_KEY``; ``AUTOCLIP_SENDGRID_BASE_URL`` points it elsewhere (the EU region's
``https://api.eu.sendgrid.com``, a test server).

SendGrid answers ``202 Accepted`` once it has queued the message. A ``4xx`` says what is wrong
in ``{"errors": [{"message", "field"}]}`` and is not sent again (the same body would be
refused again); ``429`` is waited out until its ``X-RateLimit-Reset`` when that is near, and
``5xx``, timeouts and lost connections are tried again after a short back-off, a few times in
all. Errors never carry the key, and the recipient's address is left out of them (logs are
read by more people than mailboxes are).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

import httpx

from autoclip_api.email.base import EmailMessage, MailError
from autoclip_core.settings import Settings

MAIL_SEND = "/v3/mail/send"
ATTEMPTS = 3
BACKOFF_S = (0.5, 2.0)
"""Waits before the second and third attempt after a 5xx or a network error."""
MAX_RATE_LIMIT_WAIT_S = 30.0
"""A 429 whose reset is further away than this fails the message instead of holding the
mail queue (one worker sends every message in order)."""
TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class SendGridConfig:
    api_key: str
    base_url: str = "https://api.sendgrid.com"

    @classmethod
    def from_settings(cls, settings: Settings) -> SendGridConfig:
        if settings.sendgrid_api_key is None:
            raise ValueError("AUTOCLIP_EMAIL_PROVIDER=sendgrid needs SENDGRID_API_KEY")
        return cls(settings.sendgrid_api_key.get_secret_value(), settings.sendgrid_base_url)

    def __repr__(self) -> str:
        return f"SendGridConfig(base_url={self.base_url!r})"


def address(value: str) -> dict[str, str]:
    """``"Name <a@b.c>"`` as SendGrid's email object ``{"email", "name"?}``."""
    name, email = parseaddr(value)
    return {"email": email, "name": name} if name else {"email": email}


def mail_send_body(message: EmailMessage, sender: str) -> dict[str, Any]:
    """The Mail Send request body: one recipient, plain text, the kind as its category (so
    SendGrid's statistics tell verification mails from resets)."""
    return {
        "personalizations": [{"to": [{"email": message.to}]}],
        "from": address(sender),
        "subject": message.subject,
        "content": [{"type": "text/plain", "value": message.text}],
        "categories": [message.kind],
    }


def refusal(response: httpx.Response, recipient: str) -> str:
    """What SendGrid's error body says, without the recipient's address."""
    try:
        errors = response.json()["errors"]
        said = "; ".join(
            f"{e.get('field')}: {e.get('message')}" if e.get("field") else str(e.get("message"))
            for e in errors
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        said = f"unreadable body {response.text[:200]!r}"
    return f"SendGrid answered {response.status_code}: {said}".replace(recipient, "<recipient>")


class SendGridMailProvider:
    name = "sendgrid"

    def __init__(
        self,
        config: SendGridConfig,
        *,
        timeout_s: float = TIMEOUT_S,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(
            base_url=config.base_url,
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {config.api_key}"},
            follow_redirects=False,
        )

    def send(self, message: EmailMessage, sender: str) -> None:
        body = json.dumps(mail_send_body(message, sender), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        for attempt in range(1, ATTEMPTS + 1):
            last = attempt == ATTEMPTS
            try:
                response = self._http.post(MAIL_SEND, content=body, headers=headers)
            except httpx.TransportError as exc:
                if last:
                    raise MailError(f"SendGrid unreachable: {type(exc).__name__}") from exc
                self._sleep(BACKOFF_S[attempt - 1])
                continue
            if response.is_success:
                return
            if response.status_code == 429:
                wait = self._rate_limit_wait(response)
                if last or wait > MAX_RATE_LIMIT_WAIT_S:
                    raise MailError(
                        f"{refusal(response, message.to)} (rate limit resets in {wait:.0f} s)"
                    )
                self._sleep(wait)
                continue
            if response.status_code >= 500 and not last:
                self._sleep(BACKOFF_S[attempt - 1])
                continue
            raise MailError(refusal(response, message.to))

    def _rate_limit_wait(self, response: httpx.Response) -> float:
        """Seconds until ``X-RateLimit-Reset`` (unix seconds); a second when it is missing."""
        reset = response.headers.get("x-ratelimit-reset")
        try:
            return max(float(reset) - self._clock(), 0.0) if reset else 1.0
        except ValueError:
            return 1.0

    def close(self) -> None:
        self._http.close()
