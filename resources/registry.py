"""Provider selection: the one place that maps settings (env vars) to resource instances.

Called when definitions load, never at import time. Each capability has a table of its
providers; ``Settings`` only accepts names that appear here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg

from autoclip_core.settings import Settings
from resources.app_database import AppDatabase
from resources.llm.local import LocalLLM
from resources.publisher.local import LocalChannelPublisher
from resources.renderer.ffmpeg import FFmpegRenderer
from resources.storage.filesystem import FilesystemStorage
from resources.tts.espeak import EspeakTTS
from resources.visuals.local import LocalVisuals

Factory = Callable[[Settings], dg.ConfigurableResource]

PROVIDERS: dict[str, dict[str, Factory]] = {
    "llm": {"local": lambda s: LocalLLM()},
    "tts": {"espeak": lambda s: EspeakTTS()},
    "visuals": {
        "local": lambda s: LocalVisuals(
            library_dir=str(s.media_library_dir) if s.media_library_dir else None
        )
    },
    "renderer": {"ffmpeg": FFmpegRenderer.from_settings},
    "publisher": {"local": lambda s: LocalChannelPublisher(root=str(s.root / "channels"))},
    "storage": {"filesystem": lambda s: FilesystemStorage(root=str(s.media_dir))},
}


def build_resources(settings: Settings) -> dict[str, Any]:
    chosen = {
        "llm": settings.llm_provider,
        "tts": settings.tts_provider,
        "visuals": settings.visuals_provider,
        "renderer": settings.renderer_provider,
        "publisher": settings.publisher_provider,
        "storage": settings.storage_provider,
    }
    resources: dict[str, Any] = {
        capability: PROVIDERS[capability][name](settings) for capability, name in chosen.items()
    }
    resources["app_db"] = AppDatabase(url=settings.app_database_url)
    resources["io_manager"] = dg.FilesystemIOManager(base_dir=str(settings.root / "io"))
    return resources
