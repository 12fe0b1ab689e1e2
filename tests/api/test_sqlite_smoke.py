"""The embedded defaults: SQLite under the data dir and in-process rate limiting (no Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from autoclip_api.__main__ import main
from autoclip_api.app import create_app
from autoclip_core.settings import Settings
from tests.api.conftest import FAST_HASHING, client_for, make_settings, outbox_of
from tests.api.helpers import ApiClient

pytestmark = pytest.mark.anyio


@pytest.fixture
async def local(tmp_path: Path, sqlite_url: str) -> AsyncIterator[ApiClient]:
    app = create_app(make_settings(tmp_path, sqlite_url, None))
    async with client_for(app) as http:
        yield ApiClient(http, outbox_of(app))
    app.state.api.close()


async def test_default_settings_use_sqlite_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOCLIP_DATA_DIR", str(tmp_path))
    for name in ("AUTOCLIP_DATABASE_URL", "AUTOCLIP_REDIS_URL", "AUTOCLIP_JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTOCLIP_ENV", "local")
    assert main(["migrate"]) == 0
    assert (tmp_path / "autoclip.db").exists()
    app: FastAPI = create_app(Settings(**{"data_dir": tmp_path}))  # local: secret generated
    assert (tmp_path / "secrets" / "jwt_secret").exists()
    async with client_for(app) as http:
        client = ApiClient(http)
        account = await client.register()
        await client.project(account)
        ready = (await http.get("/readyz")).json()
        assert ready["checks"] == {
            "database": {"status": "ok", "detail": "sqlite"},
            "redis": {"status": "not_configured", "detail": "in-process rate limits and caches"},
        }
    app.state.api.close()


async def test_sign_up_sign_in_refresh_reuse_and_logout(local: ApiClient) -> None:
    account = await local.register()
    again = await local.login(account)
    rotated = await local.post("/api/v1/auth/refresh", json={"refresh_token": again.refresh_token})
    assert rotated.status_code == 200
    replay = await local.post("/api/v1/auth/refresh", json={"refresh_token": again.refresh_token})
    assert replay.status_code == 401
    assert (await local.get("/api/v1/users/me", headers=again.headers)).status_code == 401
    assert (await local.post("/api/v1/auth/logout", headers=account.headers)).status_code == 204
    assert (await local.get("/api/v1/users/me", headers=account.headers)).status_code == 401


async def test_projects_and_tenancy(local: ApiClient) -> None:
    alice = await local.register()
    bob = await local.register()
    project = await local.project(bob)
    foreign = await local.get(f"/api/v1/projects/{project['id']}", headers=alice.headers)
    missing = await local.get("/api/v1/projects/" + "0" * 32, headers=alice.headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    assert (await local.get("/api/v1/projects", headers=alice.headers)).json()["total"] == 0
    url = f"/api/v1/projects/{project['id']}"
    patched = await local.patch(url, json={"timezone": "Asia/Seoul"}, headers=bob.headers)
    assert patched.json()["timezone"] == "Asia/Seoul"
    assert patched.json()["updated_at"].endswith("Z")
    assert (await local.delete(url, headers=bob.headers)).status_code == 204


async def test_role_change_and_member_removal(local: ApiClient) -> None:
    owner = await local.register()
    viewer = await local.member(owner, "viewer")
    members = f"/api/v1/orgs/{owner.org_id}/members/{viewer.user_id}"
    assert (
        await local.post("/api/v1/projects", json={"name": "x"}, headers=viewer.headers)
    ).status_code == 403
    await local.patch(members, json={"role": "admin"}, headers=owner.headers)
    assert (
        await local.post("/api/v1/projects", json={"name": "x"}, headers=viewer.headers)
    ).status_code == 201
    await local.delete(members, headers=owner.headers)
    assert (await local.get("/api/v1/projects", headers=viewer.headers)).status_code == 401


async def test_in_process_limiter_locks_the_account_after_5_failures(local: ApiClient) -> None:
    account = await local.register()
    wrong = {"email": account.email, "password": "wrong password!!"}
    statuses = [(await local.post("/api/v1/auth/login", json=wrong)).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


async def test_delete_me_cascades_on_sqlite(local: ApiClient) -> None:
    account = await local.register()
    await local.project(account)
    assert (await local.delete("/api/v1/users/me", headers=account.headers)).status_code == 204
    await local.register(email=account.email)


def test_fast_hashing_is_only_allowed_in_test_mode() -> None:
    with pytest.raises(ValueError, match="OWASP"):
        Settings(env="local", **FAST_HASHING)


def test_serve_refuses_several_workers_without_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without Redis the rate limits and cache versions live in one process."""
    monkeypatch.setenv("AUTOCLIP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AUTOCLIP_ENV", "local")
    monkeypatch.delenv("AUTOCLIP_REDIS_URL", raising=False)
    assert main(["serve", "--workers", "2"]) == 2
    assert "AUTOCLIP_REDIS_URL" in capsys.readouterr().err
