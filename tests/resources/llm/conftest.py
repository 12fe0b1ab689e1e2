"""The fake Gemini API and a GeminiLLM on it (tests/resources/llm/gemini_setup.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from resources.llm.gemini import GeminiLLM
from tests.fakes.gemini import FakeGemini, running_gemini
from tests.resources.llm.gemini_setup import CHEAP, KEY, QUALITY, make_llm


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGemini]:
    with running_gemini(monkeypatch, api_key=KEY, models=[CHEAP, QUALITY]) as gemini:
        yield gemini


@pytest.fixture
def sleeps() -> list[float]:
    """What the GeminiLLM would have slept (back-offs, batch polls), in order."""
    return []


@pytest.fixture
def llm(fake: FakeGemini, tmp_path: Path, sleeps: list[float]) -> GeminiLLM:
    return make_llm(fake, tmp_path / "cache", sleeps)
