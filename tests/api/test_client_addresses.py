"""Attacks that depend on the client's address, replayed against the real server.

``python -m autoclip_api serve`` runs on 127.0.0.1 and every caller connects from a loopback
address of its own (the attacker from 127.0.0.2, the victim from 127.0.0.3...), so the server
tells them apart exactly as it would on the internet: by the connection, not by a header.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from autoclip_api.sources.signature import sign
from autoclip_core.settings import Settings
from tests.api.helpers import PASSWORD
from tests.api.live_server import LiveServer, live_api
from tests.fakes.feeds import article_text

ATTACKER, VICTIM, PROXY, OTHER = "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"
BUDGET = 60
"""The API's per-minute budget in the webhook starvation test."""


def _register(http: httpx.Client, email: str) -> None:
    body = {"email": email, "password": PASSWORD, "name": "Victim", "org_name": "Victim's"}
    response = http.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text


def _login(
    http: httpx.Client, email: str, password: str, forwarded_for: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return http.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, headers=headers
    )


def test_failed_logins_from_one_address_never_lock_the_owner_out(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    """The lock-out attack: wrong passwords for the victim's e-mail from the attacker's
    address. Only that address is slowed down (seconds at first, not a 15-minute lock); the
    victim's right password from their own address signs in at once."""
    email = "victim@example.com"
    with (
        live_api(tmp_path, pg_url, redis_url) as server,
        server.client(ATTACKER) as attacker,
        server.client(VICTIM) as victim,
    ):
        _register(victim, email)
        guesses = [_login(attacker, email, f"guess number {i}!") for i in range(8)]
        statuses = [r.status_code for r in guesses]
        assert statuses[:5] == [401] * 5
        assert 429 in statuses[5:]  # the attacker waits...
        throttled = next(r for r in guesses if r.status_code == 429)
        assert 1 <= int(throttled.headers["retry-after"]) <= 2  # ...seconds at first, not 900
        # ...even with the right password, from the attacker's address
        assert _login(attacker, email, PASSWORD).status_code == 429
        # the owner, from their own address, signs in at once
        assert _login(victim, email, PASSWORD).status_code == 200
        _assert_alerted(server)


def _assert_alerted(server: LiveServer) -> None:
    """The account-wide count is a signal: operators see a WARNING with a structured name."""
    log = server.log_text()
    assert "WARNING" in log
    assert "security_event=login.repeated_failures" in log


def test_forwarded_for_from_an_untrusted_peer_does_not_change_the_client_address(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    """The spoofing attack: a caller on the host (127.0.0.1) sends a new X-Forwarded-For with
    every request to escape the per-address limits. With no AUTOCLIP_TRUSTED_PROXIES (the
    default) the header is ignored, from loopback too."""
    with (
        live_api(tmp_path, pg_url, redis_url, auth_rate_limit_per_minute="3") as server,
        server.client("127.0.0.1") as local,
    ):
        statuses = [
            _login(local, "nobody@example.com", "wrong password!!", f"203.0.113.{i}").status_code
            for i in range(1, 6)
        ]
    assert statuses == [401, 401, 401, 429, 429]


def test_forwarded_for_is_believed_only_from_the_trusted_proxies(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    """A configured proxy's X-Forwarded-For names the client; anyone else's is ignored."""
    with (
        live_api(
            tmp_path,
            pg_url,
            redis_url,
            auth_rate_limit_per_minute="2",
            trusted_proxies=f"{PROXY}/32, 10.0.0.0/8",
        ) as server,
        server.client(PROXY) as proxy,
        server.client(OTHER) as other,
    ):

        def status(http: httpx.Client, forwarded_for: str) -> int:
            return _login(http, "nobody@example.com", "wrong password!!", forwarded_for).status_code

        # through the proxy, each forwarded client has its own budget of 2 a minute
        assert [status(proxy, "198.51.100.1") for _ in range(3)] == [401, 401, 429]
        assert status(proxy, "198.51.100.2") == 401
        # a client that forges the proxy's header in front of its own address gains nothing:
        # the right-most address the trusted proxy did not add is the client
        assert status(proxy, "198.51.100.2, 198.51.100.1") == 429
        # an untrusted peer's header is ignored: all of these are 127.0.0.5
        assert [status(other, f"198.51.100.{i}") for i in (7, 8, 9)] == [401, 401, 429]


def test_sign_ups_are_limited_per_client_address(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    """Registration answers 409 for a taken e-mail (a deliberate trade-off), so it is limited
    per address: probing many e-mails, or creating many accounts, stops early."""
    with (
        live_api(tmp_path, pg_url, redis_url, register_rate_limit_per_hour="3") as server,
        server.client(ATTACKER) as attacker,
        server.client(VICTIM) as victim,
    ):
        _register(victim, "taken@example.com")
        probes = [
            attacker.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "name": "P", "org_name": "P"},
            )
            for email in ("taken@example.com", "free1@example.com", "free2@example.com",
                          "free3@example.com")
        ]  # fmt: skip
        assert [r.status_code for r in probes] == [409, 201, 201, 429]
        assert 3500 <= int(probes[-1].headers["retry-after"]) <= 3600
        _register(victim, "another@example.com")  # other addresses are not affected


def test_unsigned_junk_does_not_use_up_a_webhook_sources_budget(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    """The starvation attack: whoever knows a webhook's URL sends as many unsigned POSTs as the
    per-minute budget allows (1,200 by default; 60 here, the same count at a twentieth of the
    requests) so that the next correctly signed delivery gets 429. Unsigned attempts count
    against the sender's address only; the CMS's signed delivery is accepted."""
    with (
        live_api(tmp_path, pg_url, redis_url, api_rate_limit_per_minute=str(BUDGET)) as server,
        server.client(ATTACKER) as attacker,
        server.client(VICTIM) as cms,
    ):
        tokens = cms.post(
            "/api/v1/auth/register",
            json={"email": "cms@example.com", "password": PASSWORD, "name": "C", "org_name": "C"},
        ).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        project = cms.post("/api/v1/projects", json={"name": "News"}, headers=bearer).json()
        hook = cms.post(
            f"/api/v1/projects/{project['id']}/sources",
            json={"kind": "webhook", "name": "CMS"},
            headers=bearer,
        ).json()
        junk = [
            attacker.post(hook["push_path"], json={"items": []}).status_code for _ in range(BUDGET)
        ]
        assert set(junk) == {401}
        assert attacker.post(hook["push_path"], json={"items": []}).status_code == 429  # theirs
        body = json.dumps({"items": [WEBHOOK_ITEM]}).encode()
        timestamp = str(int(time.time()))
        signed = cms.post(
            hook["push_path"],
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-AutoClip-Timestamp": timestamp,
                "X-AutoClip-Signature": sign(hook["secret"], timestamp, body),
            },
        )
        assert signed.status_code == 202, signed.text
        assert signed.json()["accepted"] == 1


WEBHOOK_ITEM = {
    "url": "https://news.example.com/1",
    "title": "A story",
    "text": article_text(1, 200),
}


def test_trusted_proxies_are_addresses_or_networks() -> None:
    assert Settings(trusted_proxies=" 10.0.0.0/8, 192.0.2.7 ,::1").trusted_proxy_list == [
        "10.0.0.0/8",
        "192.0.2.7",
        "::1",
    ]
    for wrong in ("proxy.internal", "*", "10.0.0.0/33"):
        with pytest.raises(ValidationError, match="not an IP address or CIDR range"):
            Settings(trusted_proxies=wrong)
