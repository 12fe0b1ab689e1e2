"""OpenAI speech over the shared vendor client against a fake of ``POST /v1/audio/speech``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resources.errors import TTSError
from resources.tts.openai import OpenAITTS
from resources.vendors.usage import recording_usage
from tests.fakes.faults import reset, stall, unavailable, with_faults
from tests.fakes.openai import SPEECH_PATH, FakeOpenAI, error_reply
from tests.fakes.server import FakeServer, Reply
from tests.resources.tts.vendor_checks import (
    assert_broken_answer_is_not_cached,
    assert_cues_span_each_phrase,
    assert_mono_16_bit,
    assert_waits_for_retry_after,
    configured,
)

KEY = "sk-test-openai-0123456789"
ENGLISH = ["Smart farms are spreading fast,", "across the whole country."]
KOREAN = ["인공지능이 농업을", "바꾸고 있습니다."]


@pytest.fixture
def vendor(fake_server: FakeServer) -> FakeOpenAI:
    return FakeOpenAI(fake_server, api_key=KEY)


def tts(server: FakeServer, cache: Path, **overrides: object) -> OpenAITTS:
    return configured(OpenAITTS, server, cache, overrides.pop("api_key", KEY), **overrides)  # type: ignore[arg-type]


def faulty(vendor: FakeOpenAI, *faults: Reply) -> None:
    vendor.server.route(SPEECH_PATH, with_faults(vendor.speech, faults))


def test_one_request_per_phrase_with_bearer_key_and_documented_body(
    vendor: FakeOpenAI, fake_server: FakeServer, tmp_path: Path
) -> None:
    tts(fake_server, tmp_path, voice_en="nova").synthesize(ENGLISH, "en", tmp_path / "o.wav")

    requests = vendor.speech_requests()
    assert [r.method for r in requests] == ["POST", "POST"]
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in requests)
    assert [json.loads(r.body) for r in requests] == [
        {"model": "tts-1", "input": phrase, "voice": "nova", "response_format": "pcm"}
        for phrase in ENGLISH
    ]


@pytest.mark.parametrize(("phrases", "language"), [(ENGLISH, "en"), (KOREAN, "ko")])
def test_each_cue_spans_exactly_its_phrase_speech(
    vendor: FakeOpenAI,
    fake_server: FakeServer,
    tmp_path: Path,
    phrases: list[str],
    language: str,
) -> None:
    provider = tts(fake_server, tmp_path)
    clip = provider.synthesize(phrases, language, tmp_path / "o.wav")  # type: ignore[arg-type]

    assert_cues_span_each_phrase(clip, phrases, provider)
    assert_mono_16_bit(tmp_path / "o.wav", 24_000, clip.duration)


def test_rerun_makes_no_call_and_costs_nothing(
    vendor: FakeOpenAI, fake_server: FakeServer, tmp_path: Path
) -> None:
    provider = tts(fake_server, tmp_path / "cache")
    with recording_usage(None, None) as first:
        provider.synthesize(ENGLISH, "en", tmp_path / "a.wav")
    with recording_usage(None, None) as second:
        provider.synthesize(ENGLISH, "en", tmp_path / "b.wav")

    assert len(vendor.speech_requests()) == 2
    characters = sum(len(p) for p in ENGLISH)
    assert first.metadata()["vendor_units"] == {"openai/tts-1": {"characters": characters}}
    assert first.cost_usd == pytest.approx(characters * 15.0 / 1_000_000)
    assert second.usages == []
    assert second.cache_hits == {"openai": 2}
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


def test_429_waits_for_its_retry_after(
    vendor: FakeOpenAI, fake_server: FakeServer, tmp_path: Path
) -> None:
    assert_waits_for_retry_after(
        lambda fault: faulty(vendor, fault),
        lambda: tts(fake_server, tmp_path).synthesize(ENGLISH[:1], "en", tmp_path / "o.wav"),
        vendor.speech_requests,
    )


@pytest.mark.parametrize(
    "fault", [unavailable(502), reset(), stall(2.5)], ids=["502", "reset", "stall"]
)
def test_passing_faults_are_retried(
    vendor: FakeOpenAI, fake_server: FakeServer, tmp_path: Path, fault: Reply
) -> None:
    faulty(vendor, fault)
    clip = tts(fake_server, tmp_path).synthesize(ENGLISH[:1], "en", tmp_path / "o.wav")

    assert len(vendor.speech_requests()) == 2
    assert [cue.text for cue in clip.cues] == ENGLISH[:1]


def test_a_wrong_key_fails_at_once_with_openais_message_and_no_key(
    vendor: FakeOpenAI, fake_server: FakeServer, tmp_path: Path
) -> None:
    wrong = "sk-wrong-openai-9876543210"
    with pytest.raises(TTSError) as raised:
        tts(fake_server, tmp_path, api_key=wrong).synthesize(ENGLISH, "en", tmp_path / "o.wav")

    message = str(raised.value)
    assert message.startswith("openai: HTTP 401: Incorrect API key provided")
    assert message.endswith("(invalid_api_key)")
    assert not raised.value.retryable
    assert len(vendor.speech_requests()) == 1
    assert wrong not in message
    assert wrong not in repr(raised.value)


def test_a_message_repeating_the_key_is_scrubbed(
    vendor: FakeOpenAI, fake_server: FakeServer, tmp_path: Path
) -> None:
    faulty(vendor, error_reply(403, f"key {KEY} is blocked", "permission_error"))
    with pytest.raises(TTSError) as raised:
        tts(fake_server, tmp_path).synthesize(ENGLISH, "en", tmp_path / "o.wav")

    assert KEY not in str(raised.value)
    assert "[redacted]" in str(raised.value)


def test_an_unknown_voice_is_refused_with_the_vendors_reason(
    vendor: FakeOpenAI, fake_server: FakeServer, tmp_path: Path
) -> None:
    with pytest.raises(TTSError, match="Invalid voice: nobody") as raised:
        tts(fake_server, tmp_path, voice_en="nobody").synthesize(ENGLISH, "en", tmp_path / "o.wav")

    assert not raised.value.retryable
    assert len(vendor.speech_requests()) == 1


def test_odd_length_pcm_fails_and_is_not_cached(
    vendor: FakeOpenAI, fake_server: FakeServer, tmp_path: Path
) -> None:
    provider = tts(fake_server, tmp_path / "cache")
    assert_broken_answer_is_not_cached(
        lambda fault: faulty(vendor, fault),
        Reply(body=b"\x00\x01\x02"),
        lambda: provider.synthesize(ENGLISH[:1], "en", tmp_path / "o.wav"),
        vendor.speech_requests,
        "odd number of bytes",
    )
