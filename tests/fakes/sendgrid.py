"""A fake SendGrid Mail Send API, from Twilio SendGrid's v3 documentation
(https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send, its errors page and
"Rate Limits").

``POST /v3/mail/send`` takes ``Authorization: Bearer <API key>`` (anything else: 401) and a
JSON body with ``personalizations`` (1 to 1000, each with at least one ``to`` of
``{"email", "name"?}``), ``from`` (``{"email", "name"?}``), ``subject`` (on the message or
every personalization) and ``content`` (``[{"type", "value"}]``, text/plain first, every value
at least one character) unless a ``template_id`` is given. A valid message is answered
``202 Accepted`` with an empty body and an ``X-Message-Id`` header; an invalid one ``400``
with ``{"errors": [{"message", "field", "help"}]}``; a body that is not JSON ``400`` too. Every
answer carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``
(unix seconds); past the limit it is ``429`` with ``{"errors": [{"field": null, "message":
"too many requests"}]}``. A server error is ``500`` with the same ``errors`` shape.

Faults are queued with ``fail_next`` (as :func:`tests.fakes.faults.with_faults`): the next
requests get them in order, before the real handling.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

MAIL_SEND = "/v3/mail/send"
API_KEY = "SG.test-key.sendgrid-fake"
LIMIT = 600
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def errors_reply(
    status: int, *errors: dict[str, Any], headers: dict[str, str] | None = None
) -> Reply:
    return Reply(
        status=status,
        body=json.dumps({"errors": list(errors)}).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def error(message: str, field: str | None = None, help_url: str | None = None) -> dict[str, Any]:
    return {"message": message, "field": field, "help": help_url}


def rate_limited(reset_in_s: float) -> Reply:
    """429 as SendGrid documents it: the limit spent until ``X-RateLimit-Reset``."""
    return errors_reply(
        429,
        {"field": None, "message": "too many requests"},
        headers={
            "X-RateLimit-Limit": str(LIMIT),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(time.time() + reset_in_s)),
        },
    )


def server_error(status: int = 500) -> Reply:
    return errors_reply(status, {"field": None, "message": "An internal server error occurred."})


def _address_errors(value: Any, field_name: str) -> list[dict[str, Any]]:
    if not isinstance(value, dict) or not isinstance(value.get("email"), str):
        return [error("The email address is required.", f"{field_name}.email")]
    if not EMAIL.match(value["email"]):
        return [error("Does not contain a valid address.", f"{field_name}.email")]
    return []


def validate(body: Any) -> list[dict[str, Any]]:
    """The documented validation errors of a Mail Send body (empty: valid)."""
    if not isinstance(body, dict):
        return [error("Bad Request", None)]
    found: list[dict[str, Any]] = []
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        found.append(
            error("The personalizations field is required and must have at least one "
                  "personalization.", "personalizations")
        )  # fmt: skip
        personalizations = []
    if len(personalizations) > 1000:
        found.append(error("The personalization block is limited to 1000 personalizations per "
                           "API request.", "personalizations"))  # fmt: skip
    for n, personalization in enumerate(personalizations):
        to = personalization.get("to") if isinstance(personalization, dict) else None
        if not isinstance(to, list) or not to:
            found.append(error("The to array is required for all personalization objects, and "
                               "must have at least one email object with a valid email "
                               "address.", f"personalizations.{n}.to"))  # fmt: skip
            continue
        for m, address in enumerate(to):
            found += _address_errors(address, f"personalizations.{n}.to.{m}")
        has_subject = isinstance(personalization.get("subject"), str)
        if not has_subject and not isinstance(body.get("subject"), str):
            found.append(error("The subject is required. You can get around this requirement "
                               "if you use a template with a subject defined or if every "
                               "personalization has a subject defined.", "subject"))  # fmt: skip
    found += _address_errors(body.get("from"), "from")
    if "template_id" not in body:
        content = body.get("content")
        if not isinstance(content, list) or not content:
            found.append(error("Unless a valid template_id is provided, the content parameter "
                               "is required. There must be at least one defined content block.",
                               "content"))  # fmt: skip
        else:
            for n, block in enumerate(content):
                value = block.get("value") if isinstance(block, dict) else None
                if not isinstance(value, str) or not value:
                    found.append(error("The content value must be a string at least one "
                                       "character in length.", f"content.{n}.value"))  # fmt: skip
            types = [b.get("type") for b in content if isinstance(b, dict)]
            if "text/plain" in types and types[0] != "text/plain":
                found.append(error("If present, text/plain content must be first, followed by "
                                   "any other content.", "content.0.type"))  # fmt: skip
    return found


@dataclass
class FakeSendGrid:
    server: FakeServer
    api_key: str = API_KEY
    accepted: list[dict[str, Any]] = field(default_factory=list)
    """Bodies of the messages answered 202, in order."""
    _faults: list[Reply] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return self.server.base

    @property
    def requests(self) -> list[Request]:
        return self.server.hits(MAIL_SEND)

    def fail_next(self, *faults: Reply) -> None:
        with self._lock:
            self._faults.extend(faults)

    def handle(self, request: Request) -> Reply:
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            return fault
        limits = {
            "X-RateLimit-Limit": str(LIMIT),
            "X-RateLimit-Remaining": str(LIMIT - 1),
            "X-RateLimit-Reset": str(int(time.time()) + 60),
        }
        if request.method != "POST":
            return errors_reply(405, error("Method Not Allowed"), headers=limits)
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return errors_reply(
                401,
                error("The provided authorization grant is invalid, expired, or revoked"),
                headers=limits,
            )
        try:
            body = json.loads(request.body)
        except ValueError:
            return errors_reply(400, error("Bad Request", None), headers=limits)
        problems = validate(body)
        if problems:
            return errors_reply(400, *problems, headers=limits)
        with self._lock:
            self.accepted.append(body)
        return Reply(status=202, headers={"X-Message-Id": uuid.uuid4().hex[:22], **limits})


@contextmanager
def running_fake_sendgrid() -> Iterator[FakeSendGrid]:
    server = FakeServer().start()
    fake = FakeSendGrid(server)
    server.route(MAIL_SEND, fake.handle)
    try:
        yield fake
    finally:
        server.stop()
