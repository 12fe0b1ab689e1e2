"""Every paid vendor AutoClip can call, each on a fake server of its own, and the
environment that points the settings at them: ``AUTOCLIP_LLM_PROVIDER=gemini``, the TTS
chain ``elevenlabs,openai,google,espeak``, the visuals chain
``pexels,pixabay,openai-images,local``, fake keys, ``AUTOCLIP_<VENDOR>_BASE_URL`` and
``AUTOCLIP_FETCH_ALLOW_HOSTS=127.0.0.1`` (so stock photos download from loopback).

The renderer stays ffmpeg: Creatomate fetches every source by URL and cannot take the
pipeline's local media. One server per vendor, so ``requests()`` counts what each was asked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from autoclip_core.settings import Settings
from resources.tts.elevenlabs import DEFAULT_VOICE
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.gemini import FakeGemini, model_answer
from tests.fakes.google_tts import FakeGoogleTTS
from tests.fakes.net import running_server
from tests.fakes.openai import FakeOpenAI
from tests.fakes.pexels import FakePexels
from tests.fakes.pixabay import FakePixabay
from tests.fakes.server import FakeServer

KEYS = {
    "GEMINI_API_KEY": "fake-gemini-key-0123456789",
    "ELEVENLABS_API_KEY": "fake-elevenlabs-key-0123456789",
    "OPENAI_API_KEY": "sk-fake-openai-key-0123456789",
    "GOOGLE_TTS_API_KEY": "AIza-fake-google-key-0123456789",
    "PEXELS_API_KEY": "fake-pexels-key-0123456789",
    "PIXABAY_API_KEY": "fake-pixabay-key-0123456789",
}
VENDORS = ("gemini", "elevenlabs", "openai", "google_tts", "pexels", "pixabay")
GEMINI_MODELS = [
    str(Settings.model_fields["gemini_analysis_model"].default),
    str(Settings.model_fields["gemini_script_model"].default),
]


@dataclass
class FakeVendors:
    servers: dict[str, FakeServer]
    gemini: FakeGemini
    elevenlabs: FakeElevenLabs
    openai: FakeOpenAI
    google_tts: FakeGoogleTTS
    pexels: FakePexels
    pixabay: FakePixabay

    def environment(self) -> dict[str, str]:
        """``AUTOCLIP_*`` variables and keys that make the settings use every fake."""
        env = {
            "AUTOCLIP_LLM_PROVIDER": "gemini",
            "AUTOCLIP_TTS_PROVIDER": "elevenlabs,openai,google,espeak",
            "AUTOCLIP_VISUALS_PROVIDER": "pexels,pixabay,openai-images,local",
            "AUTOCLIP_RENDERER_PROVIDER": "ffmpeg",
            "AUTOCLIP_FETCH_ALLOW_HOSTS": "127.0.0.1",
            # The fakes answer at once; the documented limits would only make the run wait.
            "AUTOCLIP_VENDOR_REQUESTS_PER_MINUTE": json.dumps(dict.fromkeys(VENDORS, 0)),
            **KEYS,
        }
        for vendor, server in self.servers.items():
            env[f"AUTOCLIP_{vendor.upper()}_BASE_URL"] = server.base
        return env

    def requests(self) -> dict[str, int]:
        """Requests each vendor's server has seen (API calls and media downloads)."""
        return {vendor: len(server.requests) for vendor, server in self.servers.items()}


@contextmanager
def running_vendors() -> Iterator[FakeVendors]:
    with ExitStack() as stack:
        servers = {vendor: stack.enter_context(running_server()) for vendor in VENDORS}
        yield FakeVendors(
            servers=servers,
            gemini=FakeGemini(
                servers["gemini"],
                api_key=KEYS["GEMINI_API_KEY"],
                models=GEMINI_MODELS,
                answer=model_answer,
            ),
            elevenlabs=FakeElevenLabs(
                servers["elevenlabs"], api_key=KEYS["ELEVENLABS_API_KEY"], voices=[DEFAULT_VOICE]
            ),
            openai=FakeOpenAI(servers["openai"], api_key=KEYS["OPENAI_API_KEY"]),
            google_tts=FakeGoogleTTS(
                servers["google_tts"],
                api_key=KEYS["GOOGLE_TTS_API_KEY"],
                voices={"en-US-Neural2-F": "en-US", "ko-KR-Neural2-A": "ko-KR"},
            ),
            pexels=FakePexels(servers["pexels"], api_key=KEYS["PEXELS_API_KEY"]),
            pixabay=FakePixabay(servers["pixabay"], api_key=KEYS["PIXABAY_API_KEY"]),
        )
