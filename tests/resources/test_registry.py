from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from autoclip_core.settings import Settings
from resources import registry
from resources.registry import ProviderConfigError, build_resources, provider, vendor_config
from resources.tts.chain import TTSChain
from resources.tts.espeak import EspeakTTS
from resources.visuals.local import LocalVisuals


@pytest.fixture(autouse=True)
def _no_vendor_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in registry.KEY_ENV.values():
        monkeypatch.delenv(env, raising=False)
    for name in ("LLM", "TTS", "VISUALS", "RENDERER"):
        monkeypatch.delenv(f"AUTOCLIP_{name}_PROVIDER", raising=False)


def test_the_defaults_are_the_local_providers_without_a_chain(tmp_path: Path) -> None:
    resources = build_resources(Settings(data_dir=tmp_path))
    assert type(resources["tts"]) is EspeakTTS
    assert type(resources["visuals"]) is LocalVisuals


def test_an_unknown_provider_is_refused_naming_the_ones_there_are(tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError) as caught:
        provider("tts", Settings(data_dir=tmp_path, tts_provider="espeak,acme"))
    message = str(caught.value)
    assert message.startswith("AUTOCLIP_TTS_PROVIDER: no tts provider 'acme'; choose from ")
    assert "espeak" in message


def test_one_provider_capabilities_refuse_a_chain(tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError, match="llm takes one provider"):
        provider("llm", Settings(data_dir=tmp_path, llm_provider="gemini,local"))


def test_a_provider_named_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError, match="named twice"):
        provider("tts", Settings(data_dir=tmp_path, tts_provider="espeak, espeak"))


def test_several_names_make_a_chain_in_their_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(registry.PROVIDERS["tts"], "espeak-slow", lambda s: EspeakTTS(rate_wpm=120))
    chain = provider("tts", Settings(data_dir=tmp_path, tts_provider="espeak-slow, espeak"))
    assert isinstance(chain, TTSChain)
    assert [(n, p.rate_wpm) for n, p in chain.providers()] == [  # type: ignore[attr-defined]
        ("espeak-slow", 120), ("espeak", EspeakTTS().rate_wpm)
    ]  # fmt: skip


def test_vendor_config_needs_the_key(tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError, match="OPENAI_API_KEY is not set"):
        vendor_config(Settings(data_dir=tmp_path), "openai")


def test_a_key_from_the_environment_reaches_dagster_as_an_env_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("AUTOCLIP_OPENAI_BASE_URL", "http://127.0.0.1:9/")
    config = vendor_config(Settings(data_dir=tmp_path), "openai")
    assert config["api_key"] == dg.EnvVar("OPENAI_API_KEY")
    assert config["base_url"] == "http://127.0.0.1:9"
    assert config["cache_dir"] == str(tmp_path.resolve() / "vendor-cache")
    assert "sk-from-env" not in repr(config)


def test_a_key_given_to_the_settings_object_is_passed_as_is(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, pexels_api_key="pk", vendor_requests_per_minute={"pexels": 5}
    )
    config = vendor_config(settings, "pexels")
    assert config["api_key"] == "pk"
    assert config["requests_per_minute"] == {"pexels": 5.0}


def test_the_app_database_gets_the_redis_url_of_the_cache_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Redis, the pipeline's commits bump the cache versions the API reads there."""
    monkeypatch.delenv("AUTOCLIP_REDIS_URL", raising=False)
    assert build_resources(Settings(data_dir=tmp_path))["app_db"].redis_url is None
    monkeypatch.setenv("AUTOCLIP_REDIS_URL", "redis://127.0.0.1:9/0")
    app_db = build_resources(Settings(data_dir=tmp_path))["app_db"]
    assert app_db.redis_url == dg.EnvVar("AUTOCLIP_REDIS_URL")
