"""SendGrid as the e-mail provider, against a fake of its v3 Mail Send API: the documented
request, 202 taken as sent, 4xx reported and not repeated, 429 waited out until its reset,
5xx and timeouts tried again a few times, bodies that are not what SendGrid documents; and
the API's verification and reset mails going through it when it is chosen."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI

from autoclip_api.email.base import EmailMessage, MailError
from autoclip_api.email.log import LogMailProvider
from autoclip_api.email.mailer import provider_from_settings
from autoclip_api.email.sendgrid import SendGridConfig, SendGridMailProvider
from autoclip_api.email.smtp import SmtpMailProvider
from autoclip_core.settings import Settings
from tests.api.conftest import client_for, outbox_of
from tests.api.helpers import ApiClient
from tests.fakes.faults import reset, stall
from tests.fakes.sendgrid import (
    API_KEY,
    FakeSendGrid,
    error,
    errors_reply,
    rate_limited,
    running_fake_sendgrid,
    server_error,
)
from tests.fakes.server import Reply

SENDER = "AutoClip <no-reply@autoclip.example>"
MESSAGE = EmailMessage(
    to="mina@example.com",
    subject="Confirm your e-mail address",
    text="Open https://app.example/verify-email#token=abc to confirm.",
    kind="verify_email",
)


@pytest.fixture
def sendgrid() -> Iterator[FakeSendGrid]:
    with running_fake_sendgrid() as fake:
        yield fake


class Waits:
    def __init__(self) -> None:
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def provider(fake: FakeSendGrid, waits: Waits, *, key: str = API_KEY) -> SendGridMailProvider:
    return SendGridMailProvider(SendGridConfig(key, fake.base_url), timeout_s=0.5, sleep=waits)


def test_a_message_is_one_documented_mail_send_request_answered_202(
    sendgrid: FakeSendGrid,
) -> None:
    provider(sendgrid, Waits()).send(MESSAGE, SENDER)
    [request] = sendgrid.requests
    assert request.method == "POST"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert sendgrid.accepted == [
        {
            "personalizations": [{"to": [{"email": "mina@example.com"}]}],
            "from": {"email": "no-reply@autoclip.example", "name": "AutoClip"},
            "subject": "Confirm your e-mail address",
            "content": [{"type": "text/plain", "value": MESSAGE.text}],
            "categories": ["verify_email"],
        }
    ]


def test_a_refusal_is_reported_with_sendgrids_reasons_and_not_sent_again(
    sendgrid: FakeSendGrid,
) -> None:
    invalid = EmailMessage(to="mina@example", subject="s", text="", kind="verify_email")
    with pytest.raises(MailError) as raised:
        provider(sendgrid, Waits()).send(invalid, SENDER)
    assert str(raised.value) == (
        "SendGrid answered 400: personalizations.0.to.0.email: Does not contain a valid "
        "address.; content.0.value: The content value must be a string at least one character "
        "in length."
    )
    assert len(sendgrid.requests) == 1


def test_a_wrong_key_is_a_refusal_that_never_shows_the_key(sendgrid: FakeSendGrid) -> None:
    with pytest.raises(
        MailError, match="SendGrid answered 401: The provided authorization"
    ) as raised:
        provider(sendgrid, Waits(), key="SG.wrong-key").send(MESSAGE, SENDER)
    assert "SG.wrong-key" not in str(raised.value)
    assert len(sendgrid.requests) == 1


def test_an_error_that_names_the_recipient_leaves_the_address_out(
    sendgrid: FakeSendGrid,
) -> None:
    sendgrid.fail_next(errors_reply(400, error("mina@example.com is on the bounce list", "to")))
    with pytest.raises(MailError) as raised:
        provider(sendgrid, Waits()).send(MESSAGE, SENDER)
    assert str(raised.value) == "SendGrid answered 400: to: <recipient> is on the bounce list"


def test_a_rate_limit_is_waited_out_until_its_reset(sendgrid: FakeSendGrid) -> None:
    waits = Waits()
    sendgrid.fail_next(rate_limited(reset_in_s=5))
    provider(sendgrid, waits).send(MESSAGE, SENDER)
    assert len(sendgrid.requests) == 2
    assert len(sendgrid.accepted) == 1
    [waited] = waits.slept
    assert 3 <= waited <= 6  # X-RateLimit-Reset is in whole unix seconds


def test_a_rate_limit_that_lasts_long_fails_the_message_instead_of_holding_the_queue(
    sendgrid: FakeSendGrid,
) -> None:
    waits = Waits()
    sendgrid.fail_next(rate_limited(reset_in_s=3600))
    with pytest.raises(
        MailError, match=r"429: too many requests \(rate limit resets in 3\d{3} s\)"
    ):
        provider(sendgrid, waits).send(MESSAGE, SENDER)
    assert (len(sendgrid.requests), waits.slept) == (1, [])


def test_server_errors_and_timeouts_are_tried_again_with_back_off(
    sendgrid: FakeSendGrid,
) -> None:
    waits = Waits()
    sendgrid.fail_next(server_error(503), stall(2.0))
    provider(sendgrid, waits).send(MESSAGE, SENDER)
    assert len(sendgrid.accepted) == 1
    assert waits.slept == [0.5, 2.0]


def test_lasting_server_errors_fail_after_three_attempts(sendgrid: FakeSendGrid) -> None:
    waits = Waits()
    sendgrid.fail_next(server_error(), server_error(502), server_error())
    with pytest.raises(MailError, match="SendGrid answered 500: An internal server error"):
        provider(sendgrid, waits).send(MESSAGE, SENDER)
    assert len(sendgrid.requests) == 3
    assert sendgrid.accepted == []


def test_bodies_sendgrid_does_not_document_are_reported_readably(
    sendgrid: FakeSendGrid,
) -> None:
    html = Reply(
        status=502, body=b"<html>Bad Gateway</html>", headers={"Content-Type": "text/html"}
    )
    sendgrid.fail_next(html, html, html, Reply(status=400, body=b'{"errors": "nope"}'))
    waits = Waits()
    with pytest.raises(MailError, match="502: unreadable body '<html>Bad Gateway</html>'"):
        provider(sendgrid, waits).send(MESSAGE, SENDER)
    with pytest.raises(MailError, match="400: unreadable body"):
        provider(sendgrid, waits).send(MESSAGE, SENDER)


def test_a_connection_reset_is_retried(sendgrid: FakeSendGrid) -> None:
    sendgrid.fail_next(reset())
    provider(sendgrid, Waits()).send(MESSAGE, SENDER)
    assert len(sendgrid.accepted) == 1


def test_the_provider_is_chosen_by_setting(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("mail")
    chosen = provider_from_settings(
        Settings(data_dir=root, email_provider="sendgrid", sendgrid_api_key="SG.k")
    )
    assert isinstance(chosen, SendGridMailProvider)
    assert "SG.k" not in repr(chosen.config)
    with pytest.raises(ValueError, match="needs SENDGRID_API_KEY"):
        provider_from_settings(Settings(data_dir=root, email_provider="sendgrid"))
    with pytest.raises(ValueError, match="AUTOCLIP_EMAIL_PROVIDER=smtp needs"):
        provider_from_settings(Settings(data_dir=root, email_provider="smtp"))
    smtp = "smtp://mx.example"
    assert isinstance(
        provider_from_settings(Settings(data_dir=root, smtp_url=smtp)), SmtpMailProvider
    )
    assert isinstance(
        provider_from_settings(Settings(data_dir=root, smtp_url=smtp, email_provider="log")),
        LogMailProvider,
    )
    with pytest.raises(ValueError, match="sendgrid_base_url must be an https:// URL in prod"):
        Settings(env="prod", jwt_secret="x" * 40, sendgrid_base_url="http://127.0.0.1:1")


@pytest.mark.anyio
async def test_verification_and_reset_mails_go_through_sendgrid_when_chosen(
    app_factory: Callable[..., FastAPI], sendgrid: FakeSendGrid
) -> None:
    app = app_factory(
        email_provider="sendgrid", sendgrid_api_key=API_KEY, sendgrid_base_url=sendgrid.base_url,
        mail_from=SENDER,
    )  # fmt: skip
    async with client_for(app) as http:
        account = await ApiClient(http).register()
        forgot = await http.post("/api/v1/auth/password/forgot", json={"email": account.email})
        assert forgot.status_code == 202, forgot.text
    app.state.api.mailer.flush()
    kinds = [body["categories"] for body in sendgrid.accepted]
    assert kinds == [["verify_email"], ["password_reset"]]
    for body in sendgrid.accepted:
        assert body["personalizations"] == [{"to": [{"email": account.email}]}]
    assert "/verify-email#token=" in sendgrid.accepted[0]["content"][0]["value"]
    assert "/reset-password#token=" in sendgrid.accepted[1]["content"][0]["value"]
    assert outbox_of(app).messages() == []  # nothing went to the log outbox
