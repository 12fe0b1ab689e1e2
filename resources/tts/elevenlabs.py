"""ElevenLabs speech through the ``elevenlabs`` SDK, timed by the vendor's character alignment.

The whole narration part goes in one ``with-timestamps`` request (so the voice keeps its
intonation across phrases); the answer carries, for every character of the text, when it is
spoken. A caption cue runs from its phrase's first character to its last, Korean included
(one Hangul syllable is one character for ElevenLabs as for Python).

The SDK's own retries are off: the shared ``retrying`` policy (bounded back-off, Retry-After)
applies, and the SDK's errors become ``TTSError`` with the key scrubbed out.
"""

from __future__ import annotations

import array
import base64
import binascii
import json
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx
from elevenlabs.client import ElevenLabs
from elevenlabs.core.api_error import ApiError
from pydantic import Field

from autoclip_core.schemas import CaptionCue, Language
from resources.errors import TTSError
from resources.tts.base import SpeechClip, TTSResource, for_language, spoken_phrases
from resources.tts.paid import paid_answer
from resources.tts.pcm import from_s16le, write_wav
from resources.vendors.base import VendorResource
from resources.vendors.cache import AnswerCache
from resources.vendors.http import (
    RetryPolicy,
    retrying,
    status_error,
    transport_error,
    unreadable_error,
)
from resources.vendors.ratelimit import limiter_for
from resources.vendors.usage import priced

PROVIDER = "elevenlabs"
REQUEST_VERSION = "with-timestamps-1"
DEFAULT_VOICE = "21m00Tcm4TlvDq8ikWAM"
# ``language_code`` is not supported by multilingual v2 (per the API reference); v2.5 takes it.
MODELS_WITH_LANGUAGE_CODE = frozenset({"eleven_flash_v2_5", "eleven_turbo_v2_5"})
OutputFormat = Literal["pcm_16000", "pcm_22050", "pcm_24000", "pcm_44100"]


class ElevenLabsTTS(TTSResource, VendorResource):
    """ElevenLabs text to speech; one request per narration part, cues from its alignment."""

    vendor: ClassVar[str] = PROVIDER
    model_en: str = Field(default="eleven_multilingual_v2", description="Model for English.")
    model_ko: str = Field(default="eleven_multilingual_v2", description="Model for Korean.")
    voice_en: str = Field(default=DEFAULT_VOICE, description="Voice id for English.")
    voice_ko: str = Field(default=DEFAULT_VOICE, description="Voice id for Korean.")
    output_format: OutputFormat = Field(
        default="pcm_24000", description="Raw 16-bit PCM at this rate (no decoding needed)."
    )

    def voice_for(self, language: Language) -> str:
        return for_language(
            language, {"en": self.voice_en, "ko": self.voice_ko}, "ElevenLabs voice"
        )

    def model_for(self, language: Language) -> str:
        return for_language(
            language, {"en": self.model_en, "ko": self.model_ko}, "ElevenLabs model"
        )

    def synthesize(self, phrases: list[str], language: Language, out_wav: Path) -> SpeechClip:
        spoken = spoken_phrases(phrases)
        voice, model = self.voice_for(language), self.model_for(language)
        request = request_body(" ".join(spoken), model, language)
        payload = {"voice": voice, "output_format": self.output_format, **request}

        def fetch() -> bytes:
            answer = retrying(
                lambda: self._call(voice, request), policy=RetryPolicy(attempts=self.attempts)
            )
            decode(answer, spoken)  # a broken answer fails here, before it is cached
            return answer

        answer = paid_answer(
            self.answer_cache(),
            AnswerCache.key(PROVIDER, model, REQUEST_VERSION, payload),
            fetch,
            priced(PROVIDER, model, {"characters": len(request["text"])}),
        )
        samples, cues = decode(answer, spoken)
        sample_rate = int(self.output_format.removeprefix("pcm_"))
        write_wav(out_wav, samples, sample_rate)
        return SpeechClip(duration=len(samples) / sample_rate, sample_rate=sample_rate, cues=cues)

    def _call(self, voice: str, request: dict[str, Any]) -> bytes:
        limiter = limiter_for(
            PROVIDER, overrides=self.requests_per_minute, redis_url=self.redis_url
        )
        if limiter is not None:
            limiter.acquire()
        with httpx.Client(timeout=self.timeout_s, follow_redirects=False) as http:
            client = ElevenLabs(
                api_key=self.api_key,
                base_url=self.base_url,
                timeout=self.timeout_s,  # the SDK's own (240 s) would override the client's
                httpx_client=http,
            )
            try:
                response = client.text_to_speech.convert_with_timestamps(
                    voice,
                    output_format=self.output_format,
                    request_options={"max_retries": 0},
                    **request,
                )
            except ApiError as error:
                raise api_error(error, self.api_key) from None
            except httpx.TransportError as error:
                raise transport_error(TTSError, PROVIDER, error) from None
        return json.dumps(response.model_dump(by_alias=True, exclude_none=True)).encode()


def request_body(text: str, model: str, language: Language) -> dict[str, Any]:
    """The JSON body of a with-timestamps request, as the SDK's keyword arguments."""
    body: dict[str, Any] = {"text": text, "model_id": model}
    if model in MODELS_WITH_LANGUAGE_CODE:
        body["language_code"] = language
    return body


def decode(answer: bytes, phrases: list[str]) -> tuple[array.array[int], list[CaptionCue]]:
    """The samples and the phrases' cues of a with-timestamps answer (JSON bytes)."""
    try:
        parsed = json.loads(answer)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise TTSError(f"{PROVIDER}: the answer is not JSON") from error
    if not isinstance(parsed, dict):
        raise TTSError(f"{PROVIDER}: the answer is not a JSON object")
    audio, alignment = parse_answer(parsed)
    return from_s16le(audio), cues_from_alignment(phrases, alignment)


def parse_answer(answer: dict[str, Any]) -> tuple[bytes, dict[str, list[Any]]]:
    """The PCM bytes and the character alignment of a with-timestamps answer."""
    try:
        audio = base64.b64decode(answer["audio_base64"], validate=True)
    except (KeyError, TypeError, binascii.Error) as error:
        raise TTSError(f"{PROVIDER}: the answer has no readable audio_base64") from error
    alignment = answer.get("alignment")
    if not isinstance(alignment, dict):
        raise TTSError(f"{PROVIDER}: the answer has no alignment")
    return audio, alignment


def cues_from_alignment(phrases: list[str], alignment: dict[str, list[Any]]) -> list[CaptionCue]:
    """One cue per phrase, from its first character's start to its last character's end.

    ``phrases`` were sent joined by single spaces; the alignment must spell exactly that text.
    """
    characters = alignment.get("characters") or []
    starts = alignment.get("character_start_times_seconds") or []
    ends = alignment.get("character_end_times_seconds") or []
    text = " ".join(phrases)
    if not len(characters) == len(starts) == len(ends):
        raise TTSError(f"{PROVIDER}: the alignment's lists differ in length")
    if "".join(characters) != text:
        raise TTSError(f"{PROVIDER}: the alignment does not spell the text that was sent")
    cues: list[CaptionCue] = []
    offset = 0
    for phrase in phrases:
        first, last = offset, offset + len(phrase) - 1
        start, end = float(starts[first]), float(ends[last])
        if start < 0 or end < start or (cues and start < cues[-1].start):
            raise TTSError(f"{PROVIDER}: the alignment's times run backwards at {phrase!r}")
        cues.append(CaptionCue(text=phrase, start=start, end=end))
        offset = last + 2  # past the joining space
    return cues


def api_error(error: ApiError, api_key: str) -> TTSError:
    """The SDK's error as a ``TTSError``: the vendor's message, retryable as HTTP says."""
    status = error.status_code or 0
    if 200 <= status < 300:  # the SDK could not read a 2xx body: a truncated or proxy answer
        return unreadable_error(TTSError, PROVIDER, status)
    headers = {k.lower(): v for k, v in (error.headers or {}).items()}
    return status_error(
        TTSError,
        PROVIDER,
        status,
        error_message(error.body),
        retry_after=headers.get("retry-after"),
        secrets=[api_key],
    )


def error_message(body: Any) -> str:
    """``{detail: {status, message}}``, FastAPI's ``{detail: [{loc, msg}]}``, or the text."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        return f"{detail.get('message', '')} ({detail.get('status', 'error')})".strip()
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg', '')}"
            for item in detail
            if isinstance(item, dict)
        )
    if isinstance(detail, str):
        return detail
    return str(body)[:500]
