"""`autoclip pools` (run by `autoclip dev` after migrating the instance) and `autoclip demo`
set the settings' pool limits on the instance they use, over a limit set by hand."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from autoclip_cli.demo import prepare_instance
from autoclip_cli.dev import prepare_dagster_home
from autoclip_cli.main import main
from autoclip_core.settings import Settings


def pool_limits(home: Path) -> dict[str, int]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}


def test_autoclip_pools_sets_every_pool_the_steps_hold_on_the_dagster_home_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = prepare_dagster_home(Settings(data_dir=tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("AUTOCLIP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AUTOCLIP_POOL_LIMITS", '{"espeak": 2}')
    with dg.DagsterInstance.get() as instance:
        instance.event_log_storage.set_concurrency_slots("ffmpeg", 3)  # by hand

    assert main(["pools"]) == 0
    assert pool_limits(home) == {
        "local-llm": 1,
        "espeak": 2,
        "local-visuals": 1,
        "ffmpeg": 1,
        "local-publisher": 1,
    }
    assert "pool espeak: 2 at once" in capsys.readouterr().out


def test_the_demo_instance_gets_the_settings_pool_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path, pool_limits={"ffmpeg": 2})
    # prepare_instance points DAGSTER_HOME there itself; undone after the test
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    with prepare_instance(settings):
        pass
    assert pool_limits(settings.dagster_home)["ffmpeg"] == 2


def test_autoclip_pools_without_dagster_home_prepares_the_data_dirs_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", "restored after the test")
    monkeypatch.delenv("DAGSTER_HOME")
    monkeypatch.setenv("AUTOCLIP_DATA_DIR", str(tmp_path))
    assert main(["pools"]) == 0
    assert pool_limits(tmp_path / "dagster")["espeak"] == 1
    assert (tmp_path / "dagster" / "dagster.yaml").is_file()
