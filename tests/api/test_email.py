"""The ``email`` capability: the log outbox by default, SMTP when configured (against a fake
SMTP server on 127.0.0.1)."""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI

from autoclip_api.email.smtp import SmtpConfig
from autoclip_core.settings import Settings
from tests.api.conftest import client_for, outbox_of
from tests.api.helpers import ApiClient
from tests.fakes.smtp import FakeSmtp, running_fake_smtp

pytestmark = pytest.mark.anyio


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with running_fake_smtp() as fake:
        yield fake


def test_the_smtp_server_is_configured_by_url_or_by_parts() -> None:
    by_url = SmtpConfig.from_settings(Settings(smtp_url="smtps://me%40x.example:p%3Ass@mx.example"))
    assert by_url == SmtpConfig("mx.example", 465, "tls", "me@x.example", "p:ss")
    assert SmtpConfig.from_url("smtp://mx.example") == SmtpConfig("mx.example", 587, "starttls")
    assert SmtpConfig.from_url("smtp+plain://mx.example:2525").security == "plain"
    separate_password = Settings(smtp_url="smtp://me@mx.example", smtp_password="from-a-secret")
    assert SmtpConfig.from_settings(separate_password) == SmtpConfig(
        "mx.example", 587, "starttls", "me", "from-a-secret"
    )
    by_parts = Settings(smtp_host="mx.example", smtp_port=2587, smtp_user="u", smtp_password="p")
    assert SmtpConfig.from_settings(by_parts) == SmtpConfig(
        "mx.example", 2587, "starttls", "u", "p"
    )
    assert SmtpConfig.from_settings(Settings()) is None  # the log outbox
    for wrong in ("http://mx.example", "smtp://", "smtp://mx.example:99999"):
        with pytest.raises(ValueError, match="AUTOCLIP_SMTP_URL"):
            SmtpConfig.from_url(wrong)
    prod = Settings(env="prod", jwt_secret="x" * 40, smtp_url="smtp+plain://mx.example")
    with pytest.raises(ValueError, match="unencrypted SMTP is refused in prod"):
        SmtpConfig.from_settings(prod)


async def test_mail_goes_through_the_configured_smtp_server(
    app_factory: Callable[..., FastAPI], smtp: FakeSmtp
) -> None:
    app = app_factory(
        smtp_url=f"smtp+plain://{smtp.user}:{smtp.password}@127.0.0.1:{smtp.port}",
        mail_from="AutoClip <no-reply@autoclip.example>",
    )
    async with client_for(app) as http:
        account = await ApiClient(http).register()
    (mail,) = smtp.wait_for(1)
    assert mail.user == smtp.user  # it authenticated
    assert (mail.sender, mail.recipients) == ("no-reply@autoclip.example", [account.email])
    message = mail.message
    assert message["To"] == account.email
    assert message["Subject"] == "Confirm your e-mail address for AutoClip"
    assert "/verify-email#token=" in message.get_content()
    assert outbox_of(app).messages() == []  # nothing went to the log outbox


async def test_a_refused_delivery_is_logged_without_the_message(
    app_factory: Callable[..., FastAPI], caplog: pytest.LogCaptureFixture
) -> None:
    with running_fake_smtp(reject_mail_from=True) as smtp:
        app = app_factory(smtp_url=f"smtp+plain://127.0.0.1:{smtp.port}")
        async with client_for(app) as http:
            account = await ApiClient(http).register()  # the sign-up does not wait for mail
        with caplog.at_level(logging.INFO, logger="autoclip_api.email"):
            app.state.api.mailer.flush()
    (failure,) = [r for r in caplog.records if "mail not delivered" in r.getMessage()]
    assert failure.levelname == "WARNING"
    assert "kind=verify_email" in failure.getMessage()
    assert "451" in failure.getMessage()
    assert account.email not in caplog.text
    assert "token" not in failure.getMessage()


async def test_the_log_outbox_is_readable_by_its_owner_only(client: ApiClient) -> None:
    account = await client.register()
    client.outbox.wait_for(account.email, "verify_email")
    assert stat.S_IMODE(client.outbox.path.stat().st_mode) == 0o600
