"""What a paid provider's configuration contributes to content fingerprints, and its repr."""

from __future__ import annotations

from resources.tts.chain import TTSChain
from resources.tts.espeak import EspeakTTS
from resources.tts.openai import OpenAITTS
from resources.vendors.base import output_config


def _openai(**overrides: object) -> OpenAITTS:
    fields: dict[str, object] = {
        "base_url": "http://127.0.0.1:9",
        "api_key": "sk-first-key-0123456789",
        "cache_dir": "/tmp/cache-a",
    }
    return OpenAITTS(**{**fields, **overrides})  # type: ignore[arg-type]


def test_a_rotated_key_timeout_or_cache_folder_keeps_the_output_fingerprint() -> None:
    first = _openai()
    rotated = _openai(api_key="sk-second-key-987654321", cache_dir="/srv/cache", timeout_s=5.0)
    assert output_config(first) == output_config(rotated)
    assert "sk-first-key" not in repr(output_config(first))


def test_a_setting_that_changes_the_speech_changes_the_fingerprint() -> None:
    assert output_config(_openai()) != output_config(_openai(model="another-voice-model"))


def test_keys_of_providers_nested_in_a_chain_are_left_out_too() -> None:
    chain = TTSChain.of([("openai", _openai()), ("espeak", EspeakTTS())])
    rotated = TTSChain.of(
        [("openai", _openai(api_key="sk-rotated-000000000000")), ("espeak", EspeakTTS())]
    )
    assert output_config(chain) == output_config(rotated)
    assert "sk-" not in repr(output_config(chain))


def test_the_key_is_not_in_the_resources_repr() -> None:
    assert "sk-first-key" not in repr(_openai())
