"""Provider selection: one place that maps settings (env vars) to resource instances.

Called when definitions load, never at import time.
"""

from __future__ import annotations

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


def build_resources(settings: Settings) -> dict[str, Any]:
    root = settings.root
    library = str(settings.media_library_dir) if settings.media_library_dir else None
    return {
        "app_db": AppDatabase(url=settings.app_database_url),
        "llm": LocalLLM(),
        "tts": EspeakTTS(),
        "visuals": LocalVisuals(library_dir=library),
        "renderer": FFmpegRenderer(threads=settings.render_threads),
        "publisher": LocalChannelPublisher(root=str(root / "channels")),
        "storage": FilesystemStorage(root=str(settings.media_dir)),
        "io_manager": dg.FilesystemIOManager(base_dir=str(root / "io")),
    }
