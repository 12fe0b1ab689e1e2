from __future__ import annotations

import array
import multiprocessing
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError

from autoclip_core.nlp.phrases import split_caption_phrases
from autoclip_core.nlp.speech import speaking_seconds
from autoclip_core.schemas import Language
from resources.errors import TTSError
from resources.tts import espeak
from resources.tts.espeak import EspeakTTS
from tests.core.nlp.articles import EN_ARTICLE, KO_ARTICLE

ENGLISH = [
    "Artificial intelligence is changing how we grow food.",
    "Smart farms are spreading fast",
    "across the whole country.",
]
KOREAN = ["인공지능이 농업을 바꾸고 있습니다", "스마트팜 보급이 빠르게 늘고 있다"]


@pytest.fixture(scope="module")
def tts() -> EspeakTTS:
    return EspeakTTS()


def read_wav(path: Path) -> tuple[array.array[int], int]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        return array.array("h", wav.readframes(wav.getnframes())), wav.getframerate()


def samples_between(samples: array.array[int], rate: int, start: float, end: float) -> list[int]:
    return list(samples[round(start * rate) : round(end * rate)])


def synthesize_in_child(phrases: list[str], out_wav: Path) -> bytes:
    EspeakTTS().synthesize(phrases, "en", out_wav)
    return out_wav.read_bytes()


def test_english_wav_duration_matches_the_clip_and_is_plausible_for_the_word_count(
    tts: EspeakTTS, tmp_path: Path
) -> None:
    clip = tts.synthesize(ENGLISH, "en", tmp_path / "en.wav")

    samples, rate = read_wav(tmp_path / "en.wav")
    assert rate == clip.sample_rate
    assert len(samples) / rate == pytest.approx(clip.duration, abs=1e-9)
    words = sum(len(phrase.split()) for phrase in ENGLISH)
    assert 2 <= words / clip.duration <= 6
    assert max(map(abs, samples)) > 5000


def test_korean_phrases_give_audible_speech_of_plausible_length(
    tts: EspeakTTS, tmp_path: Path
) -> None:
    clip = tts.synthesize(KOREAN, "ko", tmp_path / "ko.wav")

    samples, _ = read_wav(tmp_path / "ko.wav")
    assert clip.duration > 3.0
    assert [cue.text for cue in clip.cues] == KOREAN
    for cue in clip.cues:
        assert cue.end - cue.start > 1.0
        assert max(map(abs, samples_between(samples, clip.sample_rate, cue.start, cue.end))) > 5000


@pytest.mark.parametrize(("language", "article"), [("en", EN_ARTICLE), ("ko", KO_ARTICLE)])
def test_speech_runs_at_the_stated_speaking_rate(
    tts: EspeakTTS, tmp_path: Path, language: Language, article: str
) -> None:
    """Narration length estimates (topic selection) hold for the voice that speaks them."""
    phrases = split_caption_phrases(article, language)
    clip = tts.synthesize(phrases, language, tmp_path / "article.wav")
    speech = sum(cue.end - cue.start for cue in clip.cues)
    assert speech == pytest.approx(speaking_seconds(article, language), rel=0.15)


def test_korean_is_spoken_with_the_configured_korean_voice(tmp_path: Path) -> None:
    with pytest.raises(TTSError, match="no-such-voice"):
        EspeakTTS(voice_ko="no-such-voice").synthesize(KOREAN, "ko", tmp_path / "ko.wav")


def test_cues_are_ordered_non_overlapping_one_per_non_empty_phrase(
    tts: EspeakTTS, tmp_path: Path
) -> None:
    phrases = ["", "First phrase here,", "   ", "second phrase here.", "and the third one"]

    clip = tts.synthesize(phrases, "en", tmp_path / "cues.wav")

    assert [cue.text for cue in clip.cues] == [
        "First phrase here,",
        "second phrase here.",
        "and the third one",
    ]
    assert clip.cues[0].start == pytest.approx(tts.edge_pad_s, abs=1e-3)
    for cue in clip.cues:
        assert cue.start < cue.end
    for before, after in zip(clip.cues, clip.cues[1:], strict=False):
        assert after.start >= before.end + tts.phrase_gap_s - 1e-3
    assert clip.cues[-1].end <= clip.duration - tts.edge_pad_s + 1e-3


def test_audio_is_speech_inside_cues_and_silence_between_them(
    tts: EspeakTTS, tmp_path: Path
) -> None:
    clip = tts.synthesize(ENGLISH, "en", tmp_path / "en.wav")

    samples, rate = read_wav(tmp_path / "en.wav")
    edges = [0.0, *(t for cue in clip.cues for t in (cue.start, cue.end)), clip.duration]
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        assert not any(samples_between(samples, rate, start, end))
    for cue in clip.cues:
        speech = samples_between(samples, rate, cue.start, cue.end)
        assert speech[0] != 0
        assert speech[-1] != 0


def test_a_phrase_ending_a_sentence_is_followed_by_the_longer_sentence_gap(
    tts: EspeakTTS, tmp_path: Path
) -> None:
    clip = tts.synthesize(ENGLISH, "en", tmp_path / "en.wav")

    sentence_gap = clip.cues[1].start - clip.cues[0].end
    phrase_gap = clip.cues[2].start - clip.cues[1].end
    assert sentence_gap == pytest.approx(tts.sentence_gap_s, abs=1e-3)
    assert phrase_gap == pytest.approx(tts.phrase_gap_s, abs=1e-3)


def test_same_input_gives_identical_bytes_even_after_other_speech(
    tts: EspeakTTS, tmp_path: Path
) -> None:
    first = tts.synthesize(ENGLISH, "en", tmp_path / "first.wav")
    tts.synthesize(KOREAN, "ko", tmp_path / "other.wav")
    second = tts.synthesize(ENGLISH, "en", tmp_path / "second.wav")

    assert (tmp_path / "first.wav").read_bytes() == (tmp_path / "second.wav").read_bytes()
    assert first == second


def test_concurrent_threads_get_identical_audio(tts: EspeakTTS, tmp_path: Path) -> None:
    def run(index: int) -> bytes:
        tts.synthesize(ENGLISH, "en", tmp_path / f"{index}.wav")
        return (tmp_path / f"{index}.wav").read_bytes()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, range(4)))

    assert len(set(results)) == 1


def test_a_forked_child_synthesises_the_same_audio_even_if_forked_mid_synthesis(
    tts: EspeakTTS, tmp_path: Path
) -> None:
    tts.synthesize(ENGLISH, "en", tmp_path / "parent.wav")

    with espeak._engine_lock:  # as if another thread were synthesising at fork time
        pool = multiprocessing.get_context("fork").Pool(1)
    with pool:
        child = pool.apply_async(synthesize_in_child, (ENGLISH, tmp_path / "child.wav"))
        child_bytes = child.get(timeout=10)

    assert child_bytes == (tmp_path / "parent.wav").read_bytes()


def test_english_and_korean_use_different_voices(tts: EspeakTTS) -> None:
    assert tts.voice_for("en") == "en-us"
    assert tts.voice_for("ko") == "ko"


def test_a_faster_rate_gives_shorter_speech(tmp_path: Path) -> None:
    slow = EspeakTTS(rate_wpm=130).synthesize(ENGLISH, "en", tmp_path / "slow.wav")
    fast = EspeakTTS(rate_wpm=260).synthesize(ENGLISH, "en", tmp_path / "fast.wav")

    assert fast.duration < 0.7 * slow.duration


def test_empty_phrase_list_is_rejected(tts: EspeakTTS, tmp_path: Path) -> None:
    with pytest.raises(TTSError, match="empty"):
        tts.synthesize([], "en", tmp_path / "x.wav")
    with pytest.raises(TTSError, match="empty"):
        tts.synthesize(["", "  \n"], "en", tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


def test_text_that_speaks_to_nothing_is_rejected_naming_the_phrase(
    tts: EspeakTTS, tmp_path: Path
) -> None:
    with pytest.raises(TTSError, match=r"no audible speech for '\.\.\.'"):
        tts.synthesize(["Hello there.", "..."], "en", tmp_path / "x.wav")


def test_unknown_language_is_rejected(tts: EspeakTTS, tmp_path: Path) -> None:
    with pytest.raises(TTSError, match="'fr'"):
        tts.voice_for("fr")  # type: ignore[arg-type]
    with pytest.raises(TTSError, match="'fr'"):
        tts.synthesize(["Bonjour"], "fr", tmp_path / "x.wav")  # type: ignore[arg-type]


def test_out_of_range_settings_are_rejected() -> None:
    with pytest.raises(ValidationError):
        EspeakTTS(rate_wpm=20)
    with pytest.raises(ValidationError):
        EspeakTTS(pitch=150)
