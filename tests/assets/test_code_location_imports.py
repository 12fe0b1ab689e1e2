"""Every Dagster run starts a process that loads the code location before its first step:
a vendor's SDK is imported there only when settings choose that vendor, and what only the
daemon's sensors or some steps use is imported when they run."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

# what the outside providers bring: their modules, and the SDKs they load with them
VENDOR_MODULES = (
    "resources.llm.gemini", "resources.llm.gemini_batch", "resources.llm.gemini_transforms",
    "resources.tts.elevenlabs", "resources.tts.openai", "resources.tts.google",
    "resources.visuals.pexels", "resources.visuals.pixabay", "resources.visuals.stock",
    "resources.visuals.openai_images", "resources.renderer.creatomate",
    "resources.publisher.youtube", "resources.publisher.youtube_api",
    "resources.publisher.google_oauth", "resources.publisher.tiktok",
    "resources.publisher.tiktok_api", "resources.publisher.tiktok_oauth",
    "resources.storage.s3", "resources.vendors.http",
    "elevenlabs", "boto3", "botocore", "dagster_aws",
)  # fmt: skip
SDK_ON_FIRST_CALL = ("google.genai",)  # even when Gemini is chosen
# the sources sensor's fetchers and parsers, the vendors' HTTP client, the Korean analyser,
# the render engine and what it draws and probes with (a publish run renders nothing)
NOT_AT_LOAD = ("feedparser", "requests", "httpx", "httpx2", "kiwipiepy", "numpy", "av",
               "autoclip_core.render.engine")  # fmt: skip

# Loads the definitions as a run worker does (the module, then its repository and a job) and
# prints which of the watched modules that imported.
LOAD = """
import json, sys
from autoclip_assets.definitions import build_definitions
from autoclip_core.settings import get_settings
build_definitions(get_settings()).get_repository_def().get_job("content_job")
print(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)))
"""

VENDOR_ENV = {
    "AUTOCLIP_LLM_PROVIDER": "gemini",
    "GEMINI_API_KEY": "test-key",
    "AUTOCLIP_TTS_PROVIDER": "elevenlabs, openai, google",
    "ELEVENLABS_API_KEY": "test-key",
    "OPENAI_API_KEY": "test-key",
    "GOOGLE_TTS_API_KEY": "test-key",
    "AUTOCLIP_VISUALS_PROVIDER": "pexels, pixabay, openai-images",
    "PEXELS_API_KEY": "test-key",
    "PIXABAY_API_KEY": "test-key",
    "AUTOCLIP_RENDERER_PROVIDER": "creatomate",
    "CREATOMATE_API_KEY": "test-key",
    "AUTOCLIP_STORAGE_PROVIDER": "s3",
    "AUTOCLIP_S3_BUCKET": "media",
    "AUTOCLIP_PUBLISHER_PROVIDER": "youtube, tiktok",
    "AUTOCLIP_YOUTUBE_CLIENT_ID": "client",
    "AUTOCLIP_YOUTUBE_CLIENT_SECRET": "secret",
    "AUTOCLIP_TIKTOK_CLIENT_KEY": "client",
    "AUTOCLIP_TIKTOK_CLIENT_SECRET": "secret",
}


def imported_by_loading(tmp_path: Path, env: dict[str, str]) -> set[str]:
    watched = sorted({*VENDOR_MODULES, *SDK_ON_FIRST_CALL, *NOT_AT_LOAD})
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", LOAD, *watched],
        env={"PATH": os.environ.get("PATH", "/usr/bin"), "AUTOCLIP_DATA_DIR": str(tmp_path),
             **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_local_providers_load_without_any_vendor_module_or_sdk(tmp_path: Path) -> None:
    names = (*VENDOR_MODULES, *SDK_ON_FIRST_CALL, *NOT_AT_LOAD)
    assert all(importlib.util.find_spec(name) for name in names)
    assert imported_by_loading(tmp_path, {}) == set()


def test_the_chosen_vendors_load_their_modules_and_sdks(tmp_path: Path) -> None:
    imported = imported_by_loading(tmp_path, VENDOR_ENV)
    assert set(VENDOR_MODULES) <= imported
