"""E-mail verification and password reset: single-use, expiring links mailed through the
``email`` capability (the log outbox here), stored hashed."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, update

from autoclip_core.db.models import EmailToken, utcnow
from tests.api.helpers import PASSWORD, ApiClient, problem

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "a completely different passphrase"


async def _me(client: ApiClient, headers: dict[str, str]) -> dict[str, object]:
    response = await client.get("/api/v1/users/me", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_sign_up_mails_a_link_that_proves_the_address_once(client: ApiClient) -> None:
    account = await client.register()
    assert (await _me(client, account.headers))["email_verified"] is False
    mail = client.outbox.wait_for(account.email, "verify_email")
    assert mail["subject"] == "Confirm your e-mail address for AutoClip"
    assert mail["links"]["verify"].startswith("http://127.0.0.1:5173/verify-email#token=")
    token = client.outbox.token(account.email, "verify_email")

    verified = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200
    assert verified.json() == {"email": account.email, "email_verified": True}
    assert (await _me(client, account.headers))["email_verified"] is True

    again = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert again.json() == problem(404, "This link is unknown, used or expired; ask for a new one")
    already = await client.post("/api/v1/auth/verify-email/request", headers=account.headers)
    assert already.status_code == 409


async def test_links_are_stored_hashed_expire_and_only_the_newest_works(
    client: ApiClient, pg_url: str
) -> None:
    account = await client.register()
    first = client.outbox.token(account.email, "verify_email")
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        stored = conn.scalars(select(EmailToken.token_hash)).all()
    assert stored == [hashlib.sha256(first.encode()).hexdigest()]  # never the token itself

    resent = await client.post("/api/v1/auth/verify-email/request", headers=account.headers)
    assert resent.status_code == 202
    second = client.outbox.token(account.email, "verify_email", count=2)
    stale = await client.post("/api/v1/auth/verify-email", json={"token": first})
    assert stale.status_code == 404

    with engine.begin() as conn:
        conn.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    engine.dispose()
    expired = await client.post("/api/v1/auth/verify-email", json={"token": second})
    assert expired.status_code == 404
    assert (await _me(client, account.headers))["email_verified"] is False


async def test_verification_mails_are_limited_per_account(client: ApiClient) -> None:
    account = await client.register()
    statuses = [
        (
            await client.post("/api/v1/auth/verify-email/request", headers=account.headers)
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [202] * 5 + [429]


async def test_forgot_password_answers_alike_for_known_and_unknown_addresses(
    client: ApiClient,
) -> None:
    account = await client.register()
    known = await client.post("/api/v1/auth/password/forgot", json={"email": account.email})
    unknown = await client.post(
        "/api/v1/auth/password/forgot", json={"email": "nobody@example.com"}
    )
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    client.outbox.wait_for(account.email, "password_reset")
    assert client.outbox.messages("nobody@example.com") == []


async def test_a_password_reset_is_single_use_and_ends_every_session(client: ApiClient) -> None:
    account = await client.register()
    other = await client.login(account)
    await client.post("/api/v1/auth/password/forgot", json={"email": account.email})
    token = client.outbox.token(account.email, "password_reset")

    weak = await client.post(
        "/api/v1/auth/password/reset", json={"token": token, "password": "password12"}
    )
    assert weak.status_code == 422  # ...and the link still works for a better one
    reset = await client.post(
        "/api/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert reset.status_code == 204
    for session in (account, other):
        assert (await client.get("/api/v1/users/me", headers=session.headers)).status_code == 401
        refresh = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": session.refresh_token}
        )
        assert refresh.status_code == 401
    old = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert old.status_code == 401
    new = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": NEW_PASSWORD}
    )
    assert new.status_code == 200
    headers = {"Authorization": f"Bearer {new.json()['access_token']}"}
    assert (await _me(client, headers))["email_verified"] is True  # the link reached the mailbox
    replay = await client.post(
        "/api/v1/auth/password/reset", json={"token": token, "password": "yet another passphrase"}
    )
    assert replay.status_code == 404
    client.outbox.wait_for(account.email, "notice:password.reset")
