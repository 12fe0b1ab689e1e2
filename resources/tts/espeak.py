"""Local text to speech with eSpeak NG, driven through ctypes.

The ``espeakng-loader`` wheel bundles libespeak-ng and its voice data, so nothing needs to be
installed system-wide.

Every ``synthesize`` call loads its own fresh, private copy of the library. libespeak-ng keeps
hidden state between utterances (the pitch-flutter phase and the roughness cycle counter of its
wave generator) that no API call resets, so the same text would otherwise sound slightly
different depending on what the process spoke before. A fresh instance per call makes the WAV a
pure function of the inputs and settings, which caching relies on. Loading costs a few
milliseconds, and it also makes the provider safe after ``fork``: no engine state outlives a call.

Word events are not used for timing (eSpeak drops some Korean ones). Each caption phrase is
synthesised on its own, its silence trimmed, and the cue times come from sample counts.
"""

from __future__ import annotations

import _ctypes
import array
import ctypes
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import espeakng_loader
from pydantic import Field

from autoclip_core.nlp.speech import SPEAKING_RATES
from autoclip_core.schemas import Language
from resources.errors import TTSError
from resources.tts.base import SpeechClip, TTSResource, for_language, spoken_phrases
from resources.tts.pcm import Gaps, audible_part, lay_out, write_wav

# Constants from espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 0x02
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 0x01
_POS_CHARACTER = 1
_PARAMETER_RATE = 1
_PARAMETER_PITCH = 3
_EE_OK = 0
_EE_NOT_FOUND = 2

# eSpeak pads speech with exact zeros, so a low threshold finds the speech edges precisely.
_SILENCE_THRESHOLD = 64

_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)

# Loading and initialising also touch process-wide state (the C locale): one call at a time.
_engine_lock = threading.Lock()


def _replace_lock_in_forked_child() -> None:
    """A thread of the parent may have held the lock at fork time; the child starts unlocked."""
    global _engine_lock
    _engine_lock = threading.Lock()


os.register_at_fork(after_in_child=_replace_lock_in_forked_child)


class EspeakTTS(TTSResource):
    """Offline speech with eSpeak NG; one caption cue per phrase, timed from sample counts."""

    rate_wpm: int = Field(
        default=SPEAKING_RATES["en"].per_minute,
        ge=80,
        le=450,
        description="Speaking rate in English words a minute; the Korean voice follows it.",
    )
    pitch: int = Field(default=50, ge=0, le=100, description="Base pitch, 0-100 (50 = normal).")
    voice_en: str = Field(default="en-us", description="eSpeak voice for English.")
    voice_ko: str = Field(default="ko", description="eSpeak voice for Korean.")
    phrase_gap_s: float = Field(default=0.12, ge=0, description="Silence between phrases.")
    sentence_gap_s: float = Field(
        default=0.3, ge=0, description="Silence after a phrase that ends a sentence."
    )
    edge_pad_s: float = Field(
        default=0.15, ge=0, description="Silence before the first and after the last phrase."
    )

    def voice_for(self, language: Language) -> str:
        return for_language(language, {"en": self.voice_en, "ko": self.voice_ko}, "eSpeak voice")

    def synthesize(self, phrases: list[str], language: Language, out_wav: Path) -> SpeechClip:
        voice = self.voice_for(language)
        spoken = spoken_phrases(phrases)
        raw, sample_rate = _speak_each(spoken, voice, self.rate_wpm, self.pitch)
        speaker = f"eSpeak voice {voice!r}"
        speech = [
            audible_part(samples, sample_rate, _SILENCE_THRESHOLD, phrase, speaker)
            for phrase, samples in zip(spoken, raw, strict=True)
        ]
        gaps = Gaps(self.edge_pad_s, self.phrase_gap_s, self.sentence_gap_s)
        audio, cues = lay_out(spoken, speech, sample_rate, gaps)
        write_wav(out_wav, audio, sample_rate)
        return SpeechClip(duration=len(audio) / sample_rate, sample_rate=sample_rate, cues=cues)


def _speak_each(
    phrases: list[str], voice: str, rate_wpm: int, pitch: int
) -> tuple[list[array.array[int]], int]:
    """Raw 16-bit mono samples (silence included) of each phrase, and their sample rate."""
    chunks: list[bytes] = []

    def collect(wav: ctypes._Pointer[ctypes.c_short], num_samples: int, _events: int | None) -> int:
        if num_samples > 0:
            chunks.append(ctypes.string_at(wav, num_samples * 2))
        return 0  # 0 = continue synthesis

    callback = _SynthCallback(collect)
    spoken: list[array.array[int]] = []
    with _engine_lock, _fresh_engine() as (lib, sample_rate):
        lib.espeak_SetSynthCallback(callback)
        _select_voice(lib, voice)
        _check(lib.espeak_SetParameter(_PARAMETER_RATE, rate_wpm, 0), "set the rate")
        _check(lib.espeak_SetParameter(_PARAMETER_PITCH, pitch, 0), "set the pitch")
        for phrase in phrases:
            chunks.clear()
            _synthesise(lib, phrase)
            spoken.append(array.array("h", b"".join(chunks)))
    return spoken, sample_rate


def _synthesise(lib: ctypes.CDLL, text: str) -> None:
    encoded = text.encode("utf-8")
    status = lib.espeak_Synth(
        encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
    )
    _check(status, f"synthesise {text!r}")
    _check(lib.espeak_Synchronize(), "finish synthesis")


@contextmanager
def _fresh_engine() -> Iterator[tuple[ctypes.CDLL, int]]:
    """A newly loaded private libespeak-ng, initialised for synchronous output, and its rate."""
    lib = _load_private_library_copy()
    try:
        _declare_signatures(lib)
        sample_rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS,
            0,
            espeakng_loader.get_data_path().encode(),
            _INITIALIZE_DONT_EXIT,
        )
        if sample_rate <= 0:
            raise TTSError("libespeak-ng failed to initialise (voice data missing?)")
        try:
            yield lib, sample_rate
        finally:
            lib.espeak_Terminate()
    finally:
        _ctypes.dlclose(lib._handle)


def _load_private_library_copy() -> ctypes.CDLL:
    """Load libespeak-ng from a new file, so the loader maps a new instance with pristine state.

    Loading the bundled path itself would return the already-loaded instance whenever anything
    else in the process holds it. The copy is deleted right away; its mapping stays valid.
    """
    bundled = Path(espeakng_loader.get_library_path())
    with tempfile.TemporaryDirectory(prefix="autoclip-espeak-") as folder:
        private_copy = Path(folder) / bundled.name
        shutil.copyfile(bundled, private_copy)
        return ctypes.CDLL(str(private_copy))


def _declare_signatures(lib: ctypes.CDLL) -> None:
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    lib.espeak_Synchronize.argtypes = []
    lib.espeak_Terminate.argtypes = []


def _select_voice(lib: ctypes.CDLL, voice: str) -> None:
    status = lib.espeak_SetVoiceByName(voice.encode("utf-8"))
    if status == _EE_NOT_FOUND:
        raise TTSError(f"unknown eSpeak voice {voice!r}")
    _check(status, f"select voice {voice!r}")


def _check(status: int, action: str) -> None:
    if status != _EE_OK:
        raise TTSError(f"libespeak-ng could not {action} (espeak_ERROR {status})")
