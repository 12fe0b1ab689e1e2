"""The TTS chain as the settings build it (elevenlabs,openai,google,espeak), each vendor
pointed at its fake: fallback in order, which provider answered, the cache, and the keys."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from autoclip_core.settings import Settings
from resources import registry
from resources.errors import TTSError
from resources.registry import provider
from resources.tts.base import TTSResource
from resources.tts.chain import TTSChain
from resources.tts.elevenlabs import DEFAULT_VOICE, ElevenLabsTTS
from resources.tts.espeak import EspeakTTS
from resources.tts.google import GoogleTTS
from resources.tts.openai import OpenAITTS
from resources.vendors.usage import recording_usage
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.faults import unavailable, with_faults
from tests.fakes.google_tts import FakeGoogleTTS
from tests.fakes.openai import SPEECH_PATH, FakeOpenAI
from tests.fakes.server import FakeServer

KEYS = {
    "ELEVENLABS_API_KEY": "el-chain-key-0123456789",
    "OPENAI_API_KEY": "sk-chain-key-0123456789",
    "GOOGLE_TTS_API_KEY": "AIza-chain-key-0123456789",
}
PHRASES = ["Smart farms are spreading fast,", "across the whole country."]
CHAIN = "elevenlabs,openai,google,espeak"


class Vendors:
    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.elevenlabs = FakeElevenLabs(
            server, api_key=KEYS["ELEVENLABS_API_KEY"], voices=[DEFAULT_VOICE]
        )
        self.openai = FakeOpenAI(server, api_key=KEYS["OPENAI_API_KEY"])
        self.google = FakeGoogleTTS(
            server,
            api_key=KEYS["GOOGLE_TTS_API_KEY"],
            voices={"en-US-Neural2-F": "en-US", "ko-KR-Neural2-A": "ko-KR"},
        )

    def calls(self) -> dict[str, int]:
        return {
            "elevenlabs": len(self.elevenlabs.requests()),
            "openai": len(self.openai.speech_requests()),
            "google": len(self.google.requests()),
        }


@pytest.fixture
def vendors(fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> Vendors:
    for name in ("ELEVENLABS", "OPENAI", "GOOGLE_TTS"):
        monkeypatch.setenv(f"AUTOCLIP_{name}_BASE_URL", fake_server.base)
    for env in registry.KEY_ENV.values():
        monkeypatch.delenv(env, raising=False)
    return Vendors(fake_server)


def chain(tmp_path: Path, names: str = CHAIN, **keys: str) -> TTSResource:
    given = {**KEYS, **keys}
    settings = Settings(
        data_dir=tmp_path,
        tts_provider=names,
        elevenlabs_api_key=given["ELEVENLABS_API_KEY"],
        openai_api_key=given["OPENAI_API_KEY"],
        google_tts_api_key=given["GOOGLE_TTS_API_KEY"],
        vendor_timeout_seconds=2.0,
    )
    return provider("tts", settings)


def test_the_settings_build_the_chain_in_order(vendors: Vendors, tmp_path: Path) -> None:
    built = chain(tmp_path)

    assert isinstance(built, TTSChain)
    assert [(n, type(p)) for n, p in built.providers()] == [
        ("elevenlabs", ElevenLabsTTS),
        ("openai", OpenAITTS),
        ("google", GoogleTTS),
        ("espeak", EspeakTTS),
    ]


def test_the_first_provider_answers_and_the_metadata_says_so(
    vendors: Vendors, tmp_path: Path
) -> None:
    with recording_usage(None, None) as calls:
        clip = chain(tmp_path).synthesize(PHRASES, "en", tmp_path / "o.wav")

    assert [cue.text for cue in clip.cues] == PHRASES
    assert vendors.calls() == {"elevenlabs": 1, "openai": 0, "google": 0}
    assert calls.metadata()["answered_by"] == {"tts": "elevenlabs"}
    assert "providers_failed" not in calls.metadata()


def test_a_refused_key_hands_over_to_the_next_provider(vendors: Vendors, tmp_path: Path) -> None:
    wrong = "el-refused-key-9876543210"
    with recording_usage(None, None) as calls:
        clip = chain(tmp_path, ELEVENLABS_API_KEY=wrong).synthesize(
            PHRASES, "en", tmp_path / "o.wav"
        )

    assert len(clip.cues) == 2
    assert vendors.calls() == {"elevenlabs": 1, "openai": 2, "google": 0}
    metadata = calls.metadata()
    assert metadata["answered_by"] == {"tts": "openai"}
    assert metadata["providers_failed"] == {"tts": "elevenlabs"}
    assert list(metadata["vendor_units"]) == ["openai/tts-1"]


def test_a_vendor_that_stays_down_hands_over_after_its_retries(
    vendors: Vendors, fake_server: FakeServer, tmp_path: Path
) -> None:
    down = [unavailable(503)] * 3
    fake_server.route(
        vendors.elevenlabs.path(DEFAULT_VOICE), with_faults(vendors.elevenlabs.handle, down)
    )
    fake_server.route(SPEECH_PATH, with_faults(vendors.openai.speech, down))
    with recording_usage(None, None) as calls:
        chain(tmp_path).synthesize(PHRASES, "ko", tmp_path / "o.wav")

    assert vendors.calls() == {"elevenlabs": 3, "openai": 3, "google": 2}
    assert calls.metadata()["answered_by"] == {"tts": "google"}
    assert calls.metadata()["providers_failed"] == {"tts": "elevenlabs, openai"}


def test_espeak_speaks_when_every_vendor_refuses(vendors: Vendors, tmp_path: Path) -> None:
    with recording_usage(None, None) as calls:
        clip = chain(
            tmp_path,
            ELEVENLABS_API_KEY="bad-1",
            OPENAI_API_KEY="bad-2",
            GOOGLE_TTS_API_KEY="bad-3",
        ).synthesize(PHRASES, "en", tmp_path / "o.wav")

    assert len(clip.cues) == 2
    assert calls.metadata()["answered_by"] == {"tts": "espeak"}
    assert calls.metadata()["providers_failed"] == {"tts": "elevenlabs, openai, google"}


def test_when_all_fail_the_error_names_each_and_shows_no_key(
    vendors: Vendors, tmp_path: Path
) -> None:
    wrong = {
        "ELEVENLABS_API_KEY": "el-wrong-0123456789",
        "OPENAI_API_KEY": "sk-wrong-0123456789",
        "GOOGLE_TTS_API_KEY": "AIza-wrong-0123456789",
    }
    with pytest.raises(TTSError) as raised:
        chain(tmp_path, "elevenlabs,openai,google", **wrong).synthesize(
            PHRASES, "en", tmp_path / "o.wav"
        )

    message = str(raised.value)
    assert message.startswith("every tts provider failed: elevenlabs: elevenlabs: HTTP 401")
    assert "openai: openai: HTTP 401" in message
    assert "google: google: HTTP 400" in message
    assert not raised.value.retryable
    for key in [*wrong.values(), *KEYS.values()]:
        assert key not in message


def test_a_rerun_makes_no_vendor_call(vendors: Vendors, tmp_path: Path) -> None:
    built = chain(tmp_path, ELEVENLABS_API_KEY="refused-so-openai-answers")
    built.synthesize(PHRASES, "en", tmp_path / "a.wav")
    first = vendors.calls()
    with recording_usage(None, None) as calls:
        built.synthesize(PHRASES, "en", tmp_path / "b.wav")

    # ElevenLabs refused (a 4xx is never cached), so it is asked again; OpenAI is not.
    assert vendors.calls() == {**first, "elevenlabs": first["elevenlabs"] + 1}
    assert calls.usages == []
    assert calls.cache_hits == {"openai": 2}


def test_keys_from_the_environment_reach_the_vendors_but_not_dagsters_events(
    vendors: Vendors, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for env, key in KEYS.items():
        monkeypatch.setenv(env, key)
    tts = provider("tts", Settings(data_dir=tmp_path, tts_provider=CHAIN))
    assert isinstance(tts, TTSChain)
    assert isinstance(tts.first.api_key, dg.EnvVar)  # type: ignore[attr-defined]

    @dg.asset
    def speech(tts: TTSResource) -> int:
        return len(tts.synthesize(PHRASES, "en", tmp_path / "o.wav").cues)

    result = dg.materialize([speech], resources={"tts": tts})

    assert result.success
    assert result.output_for_node("speech") == 2
    assert vendors.elevenlabs.requests()[0].headers["xi-api-key"] == KEYS["ELEVENLABS_API_KEY"]
    events = " ".join(str(event) for event in result.all_events)
    assert all(key not in events for key in KEYS.values())
