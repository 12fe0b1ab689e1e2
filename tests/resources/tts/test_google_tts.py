"""Google Cloud Text-to-Speech over the shared vendor client against a fake of text:synthesize."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resources.errors import TTSError
from resources.tts.google import GoogleTTS, price_tier
from resources.vendors.usage import recording_usage
from tests.fakes.faults import malformed_json, reset, unavailable, with_faults
from tests.fakes.google_tts import SYNTHESIZE_PATH, FakeGoogleTTS
from tests.fakes.server import FakeServer, Reply
from tests.resources.tts.vendor_checks import (
    assert_broken_answer_is_not_cached,
    assert_cues_span_each_phrase,
    assert_mono_16_bit,
    assert_waits_for_retry_after,
    configured,
)

KEY = "AIza-test-google-0123456789"
VOICES = {"en-US-Neural2-F": "en-US", "ko-KR-Neural2-A": "ko-KR", "en-US-Standard-C": "en-US"}
ENGLISH = ["Smart farms are spreading fast,", "across the whole country."]
KOREAN = ["인공지능이 농업을", "바꾸고 있습니다."]


@pytest.fixture
def vendor(fake_server: FakeServer) -> FakeGoogleTTS:
    return FakeGoogleTTS(fake_server, api_key=KEY, voices=VOICES)


def tts(server: FakeServer, cache: Path, **overrides: object) -> GoogleTTS:
    return configured(GoogleTTS, server, cache, overrides.pop("api_key", KEY), **overrides)  # type: ignore[arg-type]


def faulty(vendor: FakeGoogleTTS, *faults: Reply) -> None:
    vendor.server.route(SYNTHESIZE_PATH, with_faults(vendor.synthesize, faults))


def test_request_shape_key_in_header_not_url_and_linear16_body(
    vendor: FakeGoogleTTS, fake_server: FakeServer, tmp_path: Path
) -> None:
    tts(fake_server, tmp_path).synthesize(KOREAN, "ko", tmp_path / "o.wav")

    requests = vendor.requests()
    assert [(r.method, r.path, r.query) for r in requests] == [("POST", SYNTHESIZE_PATH, {})] * 2
    assert all(r.headers["x-goog-api-key"] == KEY for r in requests)
    assert [json.loads(r.body) for r in requests] == [
        {
            "input": {"text": phrase},
            "voice": {"languageCode": "ko-KR", "name": "ko-KR-Neural2-A"},
            "audioConfig": {"audioEncoding": "LINEAR16", "sampleRateHertz": 24_000},
        }
        for phrase in KOREAN
    ]


@pytest.mark.parametrize(("phrases", "language"), [(ENGLISH, "en"), (KOREAN, "ko")])
def test_each_cue_spans_exactly_its_phrase_speech(
    vendor: FakeGoogleTTS,
    fake_server: FakeServer,
    tmp_path: Path,
    phrases: list[str],
    language: str,
) -> None:
    provider = tts(fake_server, tmp_path, sample_rate=16_000)
    clip = provider.synthesize(phrases, language, tmp_path / "o.wav")  # type: ignore[arg-type]

    assert clip.sample_rate == 16_000
    assert_cues_span_each_phrase(clip, phrases, provider)
    assert_mono_16_bit(tmp_path / "o.wav", 16_000, clip.duration)


def test_rerun_makes_no_call_and_usage_is_priced_by_voice_tier(
    vendor: FakeGoogleTTS, fake_server: FakeServer, tmp_path: Path
) -> None:
    provider = tts(fake_server, tmp_path / "cache", voice_en="en-US-Standard-C")
    with recording_usage(None, None) as first:
        provider.synthesize(ENGLISH, "en", tmp_path / "a.wav")
    with recording_usage(None, None) as second:
        provider.synthesize(ENGLISH, "en", tmp_path / "b.wav")

    assert len(vendor.requests()) == 2
    characters = sum(len(p) for p in ENGLISH)
    assert first.metadata()["vendor_units"] == {"google/standard": {"characters": characters}}
    assert first.cost_usd == pytest.approx(characters * 4.0 / 1_000_000)
    assert second.usages == []
    assert second.cache_hits == {"google": 2}


def test_429_waits_for_its_retry_after(
    vendor: FakeGoogleTTS, fake_server: FakeServer, tmp_path: Path
) -> None:
    assert_waits_for_retry_after(
        lambda fault: faulty(vendor, fault),
        lambda: tts(fake_server, tmp_path).synthesize(ENGLISH[:1], "en", tmp_path / "o.wav"),
        vendor.requests,
    )


@pytest.mark.parametrize(
    "fault", [unavailable(503), reset(), malformed_json()], ids=["503", "reset", "malformed"]
)
def test_passing_faults_are_retried(
    vendor: FakeGoogleTTS, fake_server: FakeServer, tmp_path: Path, fault: Reply
) -> None:
    faulty(vendor, fault)
    tts(fake_server, tmp_path).synthesize(ENGLISH[:1], "en", tmp_path / "o.wav")

    assert len(vendor.requests()) == 2


def test_a_wrong_key_fails_at_once_with_googles_message_and_no_key(
    vendor: FakeGoogleTTS, fake_server: FakeServer, tmp_path: Path
) -> None:
    wrong = "AIza-wrong-google-9876543210"
    with pytest.raises(TTSError) as raised:
        tts(fake_server, tmp_path, api_key=wrong).synthesize(ENGLISH, "en", tmp_path / "o.wav")

    assert str(raised.value) == (
        "google: HTTP 400: API key not valid. Please pass a valid API key. (INVALID_ARGUMENT)"
    )
    assert not raised.value.retryable
    assert len(vendor.requests()) == 1
    assert wrong not in repr(raised.value)


def test_an_unknown_voice_is_refused_at_once(
    vendor: FakeGoogleTTS, fake_server: FakeServer, tmp_path: Path
) -> None:
    with pytest.raises(TTSError, match="Voice 'ko-KR-Nobody-A' does not exist"):
        tts(fake_server, tmp_path, voice_ko="ko-KR-Nobody-A").synthesize(
            KOREAN, "ko", tmp_path / "o.wav"
        )

    assert len(vendor.requests()) == 1


def test_audio_that_is_not_a_wav_fails_and_is_not_cached(
    vendor: FakeGoogleTTS, fake_server: FakeServer, tmp_path: Path
) -> None:
    provider = tts(fake_server, tmp_path / "cache")
    assert_broken_answer_is_not_cached(
        lambda fault: faulty(vendor, fault),
        Reply(body=b'{"audioContent": "bm90IGEgd2F2"}'),
        lambda: provider.synthesize(ENGLISH[:1], "en", tmp_path / "o.wav"),
        vendor.requests,
        "not a readable WAV",
    )


def test_price_tier_of_voice_names() -> None:
    assert price_tier("en-US-Neural2-F") == "neural2"
    assert price_tier("ko-KR-Wavenet-A") == "wavenet"
    assert price_tier("en-US-Chirp3-HD-Achernar") == "chirp3-hd"
    assert price_tier("custom") == "*"
