"""`make demo FEED=<url>` goes through the guarded fetcher and exits non-zero when refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoclip_cli.demo import run_demo
from autoclip_core.db.migrate import MIGRATE_COMMAND
from autoclip_core.settings import Settings
from tests.conftest import migrated
from tests.fakes.server import FakeServer, Reply


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A data dir whose app database was migrated (``make demo`` migrates first)."""
    settings = Settings(data_dir=tmp_path)
    migrated(settings.app_database_url)
    return settings


def test_an_unmigrated_database_is_refused_with_the_command_that_migrates_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_demo("file:///etc/passwd", Settings(data_dir=tmp_path)) == 2
    assert f"run `{MIGRATE_COMMAND}`" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("feed", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "non-public address 169.254.169.254"),
        ("http://2130706433/feed.xml", "non-public address 127.0.0.1"),
        ("file:///etc/passwd", "feed file not found"),
    ],
)
def test_a_refused_feed_exits_non_zero_with_the_reason(
    settings: Settings, capsys: pytest.CaptureFixture[str], feed: str, reason: str
) -> None:
    assert run_demo(feed, settings) == 2
    assert reason in capsys.readouterr().err


def test_a_redirect_into_the_private_network_is_refused_too(
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    fake_server: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.1")
    url = fake_server.route("/feed", Reply(status=302, headers={"Location": "http://10.0.0.1/"}))
    assert run_demo(url, settings) == 2
    assert "non-public address 10.0.0.1" in capsys.readouterr().err
