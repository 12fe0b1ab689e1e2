"""The token secret: refused when missing or a placeholder outside local mode, generated once
and kept in local mode."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from autoclip_api.__main__ import main
from autoclip_api.app import create_app
from autoclip_api.core.secrets import MissingSecretError, jwt_secret
from autoclip_core.settings import Settings
from tests.api.conftest import FAST_HASHING


@pytest.mark.parametrize("env", ["test", "prod"])
@pytest.mark.parametrize("secret", ["changethis", "secret", "CHANGEME", "short-but-random-1"])
def test_placeholder_or_short_secret_is_refused_outside_local(env: str, secret: str) -> None:
    with pytest.raises(ValidationError, match="AUTOCLIP_JWT_SECRET"):
        Settings(env=env, jwt_secret=secret, **FAST_HASHING)


@pytest.mark.parametrize("env", ["test", "prod"])
def test_missing_secret_stops_the_api_outside_local(env: str, tmp_path: Path) -> None:
    settings = Settings(env=env, data_dir=tmp_path, **(FAST_HASHING if env == "test" else {}))
    with pytest.raises(MissingSecretError, match="AUTOCLIP_JWT_SECRET must be set"):
        create_app(settings)
    assert not (tmp_path / "secrets").exists()


def test_serve_refuses_to_start_without_a_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTOCLIP_ENV", "prod")
    monkeypatch.setenv("AUTOCLIP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AUTOCLIP_JWT_SECRET", raising=False)
    assert main(["serve"]) == 2
    assert "AUTOCLIP_JWT_SECRET must be set" in capsys.readouterr().err


def test_local_mode_generates_a_secret_once_and_keeps_it(tmp_path: Path) -> None:
    settings = Settings(env="local", data_dir=tmp_path)
    first = jwt_secret(settings)
    second = jwt_secret(Settings(env="local", data_dir=tmp_path))
    assert first == second
    assert len(first) >= 48
    path = tmp_path / "secrets" / "jwt_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # a placeholder is fine in local mode only if set explicitly by the developer
    assert jwt_secret(Settings(env="local", data_dir=tmp_path, jwt_secret="dev")) == "dev"


def test_a_strong_configured_secret_is_used_as_is(tmp_path: Path) -> None:
    secret = "k" * 20 + "0123456789abcdef"
    assert jwt_secret(Settings(env="prod", data_dir=tmp_path, jwt_secret=secret)) == secret


def test_oauth_endpoints_must_be_https_in_prod() -> None:
    with pytest.raises(ValidationError, match="https"):
        Settings(env="prod", google_token_endpoint="http://127.0.0.1:9/token")
