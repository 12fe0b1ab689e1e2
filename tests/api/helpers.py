"""Small helpers over the HTTP API (tests call the API as clients do)."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


@dataclass
class Account:
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def claims(self) -> dict[str, Any]:
        return jwt.decode(self.access_token, options={"verify_signature": False})

    @property
    def user_id(self) -> str:
        return str(self.claims["sub"])

    @property
    def org_id(self) -> str:
        return str(self.claims["org_id"])


class Outbox:
    """The log mail provider's outbox (``<data dir>/mail/outbox.jsonl``), read as a person
    reads their mailbox: the messages to one address, and the token in a mailed link."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def of(cls, data_dir: Path) -> Outbox:
        return cls(data_dir / "mail" / "outbox.jsonl")

    def messages(self, to: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        found = [json.loads(line) for line in lines if line.strip()]
        return [
            m
            for m in found
            if (to is None or m["to"] == to) and (kind is None or m["kind"] == kind)
        ]

    def wait_for(self, to: str, kind: str, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        """The ``count``-th message of ``kind`` to ``to`` (mail leaves on a worker thread)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(to, kind)
            if len(found) >= count:
                return found[count - 1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {kind} mail #{count} to {to}: {self.messages(to)}")
            time.sleep(0.02)

    def token(self, to: str, kind: str, count: int = 1) -> str:
        """The token of the link in that message (``…#token=<token>``)."""
        message = self.wait_for(to, kind, count)
        (link,) = message["links"].values()
        fragment = urlsplit(link).fragment
        assert fragment.startswith("token="), link
        return fragment.removeprefix("token=")


class ApiClient:
    def __init__(self, http: httpx.AsyncClient, outbox: Outbox | None = None) -> None:
        self.http = http
        self._outbox = outbox

    @property
    def outbox(self) -> Outbox:
        assert self._outbox is not None, "this client was made without the app's outbox"
        return self._outbox

    def __getattr__(self, name: str) -> Any:
        return getattr(self.http, name)

    async def register(
        self, *, email: str | None = None, password: str = PASSWORD, org_name: str = "Acme"
    ) -> Account:
        email = email or f"user{next(_counter)}@example.com"
        response = await self.http.post(
            "/api/v1/auth/register",
            json={"email": email, "password": password, "name": "Test User", "org_name": org_name},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return Account(email, password, body["access_token"], body["refresh_token"])

    async def verify_email(self, account: Account) -> None:
        """Follows the verification link mailed at sign-up."""
        token = self.outbox.token(account.email, "verify_email")
        response = await self.http.post("/api/v1/auth/verify-email", json={"token": token})
        assert response.status_code == 200, response.text

    async def login(self, account: Account, *, org_id: str | None = None) -> Account:
        payload: dict[str, Any] = {"email": account.email, "password": account.password}
        if org_id is not None:
            payload["org_id"] = org_id
        response = await self.http.post("/api/v1/auth/login", json=payload)
        assert response.status_code == 200, response.text
        body = response.json()
        return Account(account.email, account.password, body["access_token"], body["refresh_token"])

    async def member(self, owner: Account, role: str, *, org_id: str | None = None) -> Account:
        """A new user who accepted the owner's invitation with ``role``, signed in there."""
        user = await self.register()
        org_id = org_id or owner.org_id
        await self.join(owner, user, role, org_id=org_id)
        return await self.login(user, org_id=org_id)

    async def join(
        self, owner: Account, user: Account, role: str, *, org_id: str | None = None
    ) -> None:
        """The owner invites the user with ``role``; the user proves their address (if they
        have not yet) and accepts."""
        org_id = org_id or owner.org_id
        invited = await self.http.post(
            f"/api/v1/orgs/{org_id}/invitations",
            json={"email": user.email, "role": role},
            headers=owner.headers,
        )
        assert invited.status_code == 201, invited.text
        me = await self.http.get("/api/v1/users/me", headers=user.headers)
        if not me.json()["email_verified"]:
            await self.verify_email(user)
        accepted = await self.http.post(
            f"/api/v1/invitations/{invited.json()['id']}/accept",
            json={"role": role},
            headers=user.headers,
        )
        assert accepted.status_code == 200, accepted.text

    async def project(self, account: Account, name: str = "Daily news") -> dict[str, Any]:
        response = await self.http.post(
            "/api/v1/projects", json={"name": name}, headers=account.headers
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


def problem(status: int, detail: str) -> dict[str, Any]:
    """The RFC 9457 problem body the API answers an error with."""
    return {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }


def forge(secret: str, claims: dict[str, Any], *, algorithm: str = "HS256") -> str:
    now = datetime.now(UTC)
    base = {
        "iss": "autoclip",
        "aud": "autoclip-api",
        "iat": now,
        "exp": now + timedelta(minutes=15),
        "typ": "access",
    }
    return jwt.encode({**base, **claims}, secret, algorithm=algorithm)
