"""What `make demo` publishes to and prints: the local channel always, each platform the
publisher provider names whose channel is configured in settings, and a line per video that
starts with the local path (then duration, resolution, language) and adds each platform's
URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from autoclip_cli.demo import ItemOutcome, demo_channels, report
from autoclip_core.settings import Settings
from tests.fakes.clips import make_mp4


def test_the_demo_publishes_to_the_platforms_chosen_and_configured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo_channels(Settings(data_dir=tmp_path)) == ["local"]
    both = Settings(
        data_dir=tmp_path,
        publisher_provider="youtube,tiktok",
        youtube_refresh_token=SecretStr("1//yt"),
        tiktok_refresh_token=SecretStr("rt"),
    )
    assert demo_channels(both) == ["local", "youtube", "tiktok"]
    half = Settings(
        data_dir=tmp_path, publisher_provider="youtube,tiktok", tiktok_refresh_token=SecretStr("rt")
    )
    assert demo_channels(half) == ["local", "tiktok"]
    assert "AUTOCLIP_YOUTUBE_REFRESH_TOKEN is not set" in capsys.readouterr().out
    unchosen = Settings(data_dir=tmp_path, youtube_refresh_token=SecretStr("1//yt"))
    assert demo_channels(unchosen) == ["local"]


def test_each_videos_line_starts_with_its_local_path_and_ends_with_its_platform_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = tmp_path / "item-1.mp4"
    video.write_bytes(make_mp4(96, 160, 10, 1.0))
    outcome = ItemOutcome(
        "item-1", "A story", "published", None, 12.0, {}, video, "en",
        ["https://www.youtube.com/watch?v=abc", "tiktok: waiting (TikTok: daily post cap)"],
    )  # fmt: skip
    assert report([outcome]) == 0
    [line] = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(str(video))]
    fields = line.split("  ")
    assert fields[0] == str(video)
    assert fields[1].endswith("s")
    assert fields[2:] == [
        "96x160", "en", "https://www.youtube.com/watch?v=abc",
        "tiktok: waiting (TikTok: daily post cap)",
    ]  # fmt: skip
