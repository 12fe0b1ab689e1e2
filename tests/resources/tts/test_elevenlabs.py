"""ElevenLabs through the real SDK against a fake of its documented with-timestamps API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resources.errors import TTSError
from resources.tts.elevenlabs import ElevenLabsTTS, cues_from_alignment, error_message
from resources.vendors.usage import recording_usage
from tests.fakes.elevenlabs import FakeElevenLabs, alignment
from tests.fakes.faults import malformed_json, reset, stall, unavailable, with_faults
from tests.fakes.server import FakeServer, Reply
from tests.fakes.speech import CHAR_S, LEAD_S
from tests.resources.tts.vendor_checks import (
    assert_broken_answer_is_not_cached,
    assert_mono_16_bit,
    assert_waits_for_retry_after,
    configured,
)

KEY = "el-test-key-0123456789"
VOICE = "voice-en"
VOICE_KO = "voice-ko"
ENGLISH = ["Smart farms are spreading fast,", "across the whole country."]
KOREAN = ["인공지능이 농업을", "바꾸고 있습니다."]


@pytest.fixture
def vendor(fake_server: FakeServer) -> FakeElevenLabs:
    return FakeElevenLabs(fake_server, api_key=KEY, voices=[VOICE, VOICE_KO])


def tts(server: FakeServer, cache: Path, **overrides: object) -> ElevenLabsTTS:
    config = {"voice_en": VOICE, "voice_ko": VOICE_KO, "timeout_s": 2.0, **overrides}
    return configured(ElevenLabsTTS, server, cache, config.pop("api_key", KEY), **config)  # type: ignore[arg-type]


def faulty(server: FakeServer, vendor: FakeElevenLabs, *faults: object) -> None:
    server.route(vendor.path(VOICE), with_faults(vendor.handle, faults))  # type: ignore[arg-type]


def test_request_shape_key_header_path_query_and_body(
    vendor: FakeElevenLabs,
    fake_server: FakeServer,
    tmp_path: Path,
) -> None:
    tts(fake_server, tmp_path).synthesize(ENGLISH, "en", tmp_path / "out.wav")

    (request,) = vendor.requests()
    assert request.method == "POST"
    assert request.path == f"/v1/text-to-speech/{VOICE}/with-timestamps"
    assert request.query == {"output_format": "pcm_24000"}
    assert request.headers["xi-api-key"] == KEY
    assert "authorization" not in request.headers
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {
        "text": " ".join(ENGLISH),
        "model_id": "eleven_multilingual_v2",
    }


def test_a_v2_5_model_is_told_the_language(
    vendor: FakeElevenLabs,
    fake_server: FakeServer,
    tmp_path: Path,
) -> None:
    provider = tts(fake_server, tmp_path, model_ko="eleven_flash_v2_5")
    provider.synthesize(KOREAN, "ko", tmp_path / "out.wav")

    (request,) = vendor.server.hits(vendor.path(VOICE_KO))
    body = json.loads(request.body)
    assert body["model_id"] == "eleven_flash_v2_5"
    assert body["language_code"] == "ko"


@pytest.mark.parametrize(("phrases", "language"), [(ENGLISH, "en"), (KOREAN, "ko")])
def test_cues_follow_the_character_alignment_and_the_wav_is_mono_16_bit(
    vendor: FakeElevenLabs,
    fake_server: FakeServer,
    tmp_path: Path,
    phrases: list[str],
    language: str,
) -> None:
    out = tmp_path / "out.wav"
    clip = tts(fake_server, tmp_path).synthesize(phrases, language, out)  # type: ignore[arg-type]

    # The fake speaks each character for CHAR_S after LEAD_S of silence; phrases are joined
    # by one space, so the second phrase starts len(first) + 1 characters in.
    first, second = phrases
    assert [cue.text for cue in clip.cues] == phrases
    assert clip.cues[0].start == pytest.approx(LEAD_S)
    assert clip.cues[0].end == pytest.approx(LEAD_S + len(first) * CHAR_S)
    assert clip.cues[1].start == pytest.approx(LEAD_S + (len(first) + 1) * CHAR_S)
    assert clip.cues[1].end == pytest.approx(LEAD_S + (len(first) + 1 + len(second)) * CHAR_S)
    assert_mono_16_bit(out, 24_000, clip.duration)


def test_rerun_is_answered_from_the_cache_with_no_call_and_no_cost(
    vendor: FakeElevenLabs,
    fake_server: FakeServer,
    tmp_path: Path,
) -> None:
    provider = tts(fake_server, tmp_path / "cache")
    with recording_usage(None, None) as first:
        clip = provider.synthesize(ENGLISH, "en", tmp_path / "a.wav")
    with recording_usage(None, None) as second:
        again = provider.synthesize(ENGLISH, "en", tmp_path / "b.wav")

    assert len(vendor.requests()) == 1
    assert again == clip
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    characters = len(" ".join(ENGLISH))
    assert first.metadata()["vendor_units"] == {
        "elevenlabs/eleven_multilingual_v2": {"characters": characters}
    }
    assert first.cost_usd == pytest.approx(characters * 0.10 / 1000)
    assert second.usages == []
    assert second.cache_hits == {"elevenlabs": 1}


def test_429_is_retried_after_its_retry_after(
    vendor: FakeElevenLabs, fake_server: FakeServer, tmp_path: Path
) -> None:
    assert_waits_for_retry_after(
        lambda fault: faulty(fake_server, vendor, fault),
        lambda: tts(fake_server, tmp_path).synthesize(ENGLISH, "en", tmp_path / "out.wav"),
        vendor.requests,
    )


@pytest.mark.parametrize(
    "fault",
    [unavailable(503), reset(), stall(3.0), malformed_json()],
    ids=["503", "reset", "stall", "malformed-json"],
)
def test_passing_faults_are_retried(
    vendor: FakeElevenLabs,
    fake_server: FakeServer,
    tmp_path: Path,
    fault: object,
) -> None:
    faulty(fake_server, vendor, fault)
    clip = tts(fake_server, tmp_path, timeout_s=1.0).synthesize(ENGLISH, "en", tmp_path / "out.wav")

    assert len(vendor.requests()) == 2
    assert [cue.text for cue in clip.cues] == ENGLISH


def test_retries_are_bounded_and_the_error_stays_retryable(
    vendor: FakeElevenLabs,
    fake_server: FakeServer,
    tmp_path: Path,
) -> None:
    faulty(fake_server, vendor, unavailable(503), unavailable(503), unavailable(503))
    with pytest.raises(TTSError, match="HTTP 503") as raised:
        tts(fake_server, tmp_path, attempts=2).synthesize(ENGLISH, "en", tmp_path / "out.wav")

    assert raised.value.retryable
    assert len(vendor.requests()) == 2


def test_a_wrong_key_fails_at_once_with_the_vendors_message_and_no_key(
    vendor: FakeElevenLabs,
    fake_server: FakeServer,
    tmp_path: Path,
) -> None:
    wrong = "el-wrong-key-9876543210"
    with pytest.raises(TTSError) as raised:
        tts(fake_server, tmp_path, api_key=wrong).synthesize(ENGLISH, "en", tmp_path / "o.wav")

    assert "HTTP 401: Invalid API key (invalid_api_key)" in str(raised.value)
    assert not raised.value.retryable
    assert len(vendor.requests()) == 1
    assert wrong not in f"{raised.value!s} {raised.value!r}"
    assert KEY not in f"{raised.value!s} {raised.value!r}"


def test_a_vendor_message_that_repeats_the_key_is_scrubbed(
    vendor: FakeElevenLabs,
    fake_server: FakeServer,
    tmp_path: Path,
) -> None:
    from tests.fakes.elevenlabs import error_reply

    faulty(fake_server, vendor, error_reply(400, "bad_request", f"key {KEY} lacks access"))
    with pytest.raises(TTSError) as raised:
        tts(fake_server, tmp_path).synthesize(ENGLISH, "en", tmp_path / "out.wav")

    assert KEY not in str(raised.value)
    assert "[redacted]" in str(raised.value)
    assert not raised.value.retryable


def test_an_unknown_voice_is_a_404_that_is_not_retried(
    vendor: FakeElevenLabs,
    fake_server: FakeServer,
    tmp_path: Path,
) -> None:
    with pytest.raises(TTSError, match="voice_not_found") as raised:
        tts(fake_server, tmp_path, voice_en="unknown-voice").synthesize(
            ENGLISH, "en", tmp_path / "out.wav"
        )

    assert not raised.value.retryable
    assert len(fake_server.hits(vendor.path("unknown-voice"))) == 1


def test_alignment_that_does_not_spell_the_text_is_refused() -> None:
    with pytest.raises(TTSError, match="does not spell"):
        cues_from_alignment(["Hello", "world"], alignment("Hello, world"))


def test_korean_alignment_maps_syllables_to_phrases() -> None:
    cues = cues_from_alignment(["안녕하세요", "여러분"], alignment("안녕하세요 여러분"))

    assert [(c.text, c.start, c.end) for c in cues] == [
        ("안녕하세요", pytest.approx(LEAD_S), pytest.approx(LEAD_S + 5 * CHAR_S)),
        ("여러분", pytest.approx(LEAD_S + 6 * CHAR_S), pytest.approx(LEAD_S + 9 * CHAR_S)),
    ]


def test_error_messages_of_both_documented_shapes() -> None:
    assert error_message({"detail": {"status": "quota_exceeded", "message": "No credits"}}) == (
        "No credits (quota_exceeded)"
    )
    assert (
        error_message(
            {"detail": [{"loc": ["body", "text"], "msg": "Field required", "type": "missing"}]}
        )
        == "body.text: Field required"
    )


def test_an_answer_without_alignment_fails_and_is_not_cached(
    vendor: FakeElevenLabs, fake_server: FakeServer, tmp_path: Path
) -> None:
    provider = tts(fake_server, tmp_path / "cache")
    assert_broken_answer_is_not_cached(
        lambda fault: faulty(fake_server, vendor, fault),
        Reply(body=b'{"audio_base64": ""}'),
        lambda: provider.synthesize(ENGLISH, "en", tmp_path / "out.wav"),
        vendor.requests,
        "no alignment",
    )
