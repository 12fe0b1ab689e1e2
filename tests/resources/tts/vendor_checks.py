"""Checks every vendor TTS test file runs against its own fake: building the provider, the
WAV it writes, per-phrase cues, Retry-After and answers that must not be cached."""

from __future__ import annotations

import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from resources.errors import TTSError
from resources.tts.base import SpeechClip, TTSResource
from resources.tts.phrasewise import PhrasewiseTTS
from tests.fakes.faults import rate_limited
from tests.fakes.server import FakeServer, Reply, Request
from tests.fakes.speech import speech_seconds

R = TypeVar("R", bound=TTSResource)

# One sample at 16-24 kHz, plus the few the silence threshold cuts from a tone's edges.
EDGE_TOLERANCE_S = 0.001


def configured(cls: type[R], server: FakeServer, cache: Path, key: str, **overrides: object) -> R:
    """``cls`` pointed at ``server`` with ``key``, a short timeout and its cache in ``cache``."""
    config: dict[str, object] = {
        "api_key": key,
        "base_url": server.base,
        "cache_dir": str(cache),
        "timeout_s": 1.0,
        **overrides,
    }
    return cls(**config)


def assert_mono_16_bit(path: Path, sample_rate: int, duration: float) -> None:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, sample_rate)
        assert wav.getnframes() / sample_rate == pytest.approx(duration)


def assert_cues_span_each_phrase(
    clip: SpeechClip, phrases: list[str], provider: PhrasewiseTTS
) -> None:
    """Each cue covers exactly its phrase's speech, the phrases laid out with the gaps."""
    assert [cue.text for cue in clip.cues] == phrases
    assert clip.cues[0].start == pytest.approx(provider.edge_pad_s, abs=EDGE_TOLERANCE_S)
    for cue, phrase in zip(clip.cues, phrases, strict=True):
        assert cue.end - cue.start == pytest.approx(speech_seconds(phrase), abs=EDGE_TOLERANCE_S)
    for before, after, phrase in zip(clip.cues, clip.cues[1:], phrases, strict=False):
        assert after.start - before.end == pytest.approx(provider.gaps().after(phrase))
    assert clip.duration - clip.cues[-1].end == pytest.approx(provider.edge_pad_s)


def assert_waits_for_retry_after(
    fail_with: Callable[..., None],
    synthesize: Callable[[], object],
    requests: Callable[[], list[Request]],
) -> None:
    """A 429 with ``Retry-After: 1`` is retried, and not before a second has passed."""
    fail_with(rate_limited(1))
    began = time.monotonic()
    synthesize()
    assert time.monotonic() - began >= 1.0
    assert len(requests()) == 2


def assert_broken_answer_is_not_cached(
    fail_with: Callable[..., None],
    broken: Reply,
    synthesize: Callable[[], object],
    requests: Callable[[], list[Request]],
    reason: str,
) -> None:
    """A 200 whose audio cannot be used fails, and the next run asks the vendor again."""
    fail_with(broken)
    with pytest.raises(TTSError, match=reason):
        synthesize()
    synthesize()
    assert len(requests()) == 2
