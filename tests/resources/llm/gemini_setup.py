"""A GeminiLLM on the fake Gemini API (tests/fakes/gemini.py), for the Gemini tests here: the
fake's key and models, no rate limit to wait for, and the sleeps it would make recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from resources.llm.gemini import GeminiLLM
from tests.fakes.gemini import FakeGemini, error_reply

KEY = "test-gemini-key-0123456789"
CHEAP, QUALITY = "gemini-test-lite", "gemini-test-pro"
QUOTA_EXCEEDED = error_reply(429, "RESOURCE_EXHAUSTED", "Quota exceeded.").body


def make_llm(fake: FakeGemini, cache_dir: Path, sleeps: list[float], **config: Any) -> GeminiLLM:
    settings: dict[str, Any] = {
        "api_key": KEY,
        "base_url": fake.server.base,
        "analysis_model": CHEAP,
        "script_model": QUALITY,
        "cache_dir": str(cache_dir),
        "requests_per_minute": {"gemini": 60_000},
        "timeout_s": 5.0,
    }
    llm = GeminiLLM(**{**settings, **config})
    llm._sleep = sleeps.append
    return llm
