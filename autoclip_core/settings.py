"""One settings object for the whole product (env prefix ``AUTOCLIP_``).

Read when definitions load or the API starts — never at import time.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "test", "prod"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTOCLIP_", extra="ignore")

    env: Environment = "local"
    data_dir: Path = Field(default=Path("data"), description="Root of all local state.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the app database; SQLite under data_dir if unset.",
    )
    redis_url: str | None = Field(default=None, description="Redis for cache/rate limits.")
    media_library_dir: Path | None = Field(
        default=None, description="Folder of the user's own images, matched to scenes by keywords."
    )
    llm_provider: Literal["local"] = "local"
    tts_provider: Literal["espeak"] = "espeak"
    visuals_provider: Literal["local"] = "local"
    renderer_provider: Literal["ffmpeg"] = "ffmpeg"
    publisher_provider: Literal["local"] = "local"
    storage_provider: Literal["filesystem"] = "filesystem"
    feeds: str = Field(
        default="", description="Comma-separated feed paths/URLs the feed sensor watches."
    )
    render_threads: int = Field(default=2, ge=1, le=16, description="Pinned x264 threads.")
    default_project: str = Field(default="demo", description="Project slug used by the demo.")

    @property
    def feed_list(self) -> list[str]:
        return [f.strip() for f in self.feeds.split(",") if f.strip()]

    @cached_property
    def root(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def app_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.root / 'autoclip.db'}"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def media_dir(self) -> Path:
        return self.root / "media"


def get_settings() -> Settings:
    return Settings()
