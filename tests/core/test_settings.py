from __future__ import annotations

import pytest
from pydantic import ValidationError

from autoclip_core.settings import Settings

KEYS = ("GEMINI_API_KEY", "ELEVENLABS_API_KEY", "OPENAI_API_KEY", "GOOGLE_TTS_API_KEY",
        "PEXELS_API_KEY", "PIXABAY_API_KEY", "CREATOMATE_API_KEY")  # fmt: skip


def test_vendor_keys_come_from_their_usual_names_and_are_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n, env in enumerate(KEYS):
        monkeypatch.setenv(env, f"secret-{n}-value")
    settings = Settings()
    for n, env in enumerate(KEYS):
        field = env.lower()
        value = getattr(settings, field)
        assert value is not None
        assert value.get_secret_value() == f"secret-{n}-value"
    shown = repr(settings) + settings.model_dump_json() + str(settings.model_dump())
    assert "secret-" not in shown


def test_provider_chains_are_read_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOCLIP_TTS_PROVIDER", "elevenlabs, openai,google ,espeak")
    monkeypatch.setenv("AUTOCLIP_VISUALS_PROVIDER", "pexels,pixabay,openai-images,local")
    settings = Settings()
    assert settings.provider_chain("tts") == ["elevenlabs", "openai", "google", "espeak"]
    assert settings.provider_chain("visuals") == ["pexels", "pixabay", "openai-images", "local"]
    assert settings.provider_chain("llm") == ["local"]


@pytest.mark.parametrize("value", ["", "a,,b", "Eleven", "a;b", "a,"])
def test_a_malformed_chain_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(tts_provider=value)


def test_vendor_origins_are_urls_without_a_trailing_slash() -> None:
    assert Settings(gemini_base_url="http://127.0.0.1:8080/").gemini_base_url == (
        "http://127.0.0.1:8080"
    )
    with pytest.raises(ValidationError, match="origin"):
        Settings(openai_base_url="ftp://api.openai.com")
    with pytest.raises(ValidationError, match="https"):
        Settings(env="prod", pexels_base_url="http://api.pexels.com", jwt_secret="x" * 40)
