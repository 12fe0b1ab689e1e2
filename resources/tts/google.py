"""Google Cloud Text-to-Speech (``POST /v1/text:synthesize``) over the shared vendor client.

The key goes in the ``X-Goog-Api-Key`` header, which Google accepts as it does ``?key=``, so
it never appears in a URL (httpx logs URLs). ``LINEAR16`` answers are WAV files (Google adds
the header), base64 in ``audioContent``. No timings: one request per caption phrase.
"""

from __future__ import annotations

import array
import base64
import binascii
from typing import Any, ClassVar

import httpx
from pydantic import Field

from autoclip_core.schemas import Language
from resources.errors import TTSError
from resources.tts.base import for_language
from resources.tts.paid import paid_answer
from resources.tts.pcm import read_wav_bytes
from resources.tts.phrasewise import PhrasewiseTTS
from resources.vendors.base import VendorResource
from resources.vendors.cache import AnswerCache
from resources.vendors.http import error_text
from resources.vendors.usage import priced

PROVIDER = "google"
REQUEST_VERSION = "text-synthesize-1"
LANGUAGE_CODES: dict[str, str] = {"en": "en-US", "ko": "ko-KR"}
MAX_INPUT_BYTES = 5000


class GoogleTTS(PhrasewiseTTS, VendorResource):
    """Google Cloud text to speech, one request per caption phrase."""

    vendor: ClassVar[str] = PROVIDER
    voice_en: str = Field(default="en-US-Neural2-F", description="Voice name for English.")
    voice_ko: str = Field(default="ko-KR-Neural2-A", description="Voice name for Korean.")
    sample_rate: int = Field(default=24_000, ge=8_000, le=48_000)

    def voice_for(self, language: Language) -> str:
        return for_language(language, {"en": self.voice_en, "ko": self.voice_ko}, "Google voice")

    def speak(self, phrase: str, language: Language) -> tuple[array.array[int], int]:
        voice = self.voice_for(language)
        body = request_body(phrase, language, voice, self.sample_rate)
        tier = price_tier(voice)
        wav = paid_answer(
            self.answer_cache(),
            AnswerCache.key(PROVIDER, tier, REQUEST_VERSION, body),
            lambda: self._fetch(body),
            priced(PROVIDER, tier, {"characters": len(phrase)}),
        )
        return read_wav_bytes(wav)

    def _fetch(self, body: dict[str, Any]) -> bytes:
        with self.vendor_client() as client:
            answer = client.send_json(
                synthesize_request(self.base_url, self.api_key, body),
                error=TTSError,
                parse_error=error_message,
            )
        wav = audio_content(answer)
        read_wav_bytes(wav)  # a broken answer fails here, before it is cached
        return wav


def request_body(text: str, language: Language, voice: str, sample_rate: int) -> dict[str, Any]:
    if len(text.encode()) > MAX_INPUT_BYTES:
        raise TTSError(f"{PROVIDER}: a phrase over {MAX_INPUT_BYTES} bytes")
    return {
        "input": {"text": text},
        "voice": {"languageCode": LANGUAGE_CODES[language], "name": voice},
        "audioConfig": {"audioEncoding": "LINEAR16", "sampleRateHertz": sample_rate},
    }


def synthesize_request(base_url: str, api_key: str, body: dict[str, Any]) -> httpx.Request:
    return httpx.Request(
        "POST",
        f"{base_url.rstrip('/')}/v1/text:synthesize",
        headers={"X-Goog-Api-Key": api_key},
        json=body,
    )


def audio_content(answer: Any) -> bytes:
    """The WAV bytes of a ``{audioContent}`` answer."""
    content = answer.get("audioContent") if isinstance(answer, dict) else None
    if not isinstance(content, str):
        raise TTSError(f"{PROVIDER}: the answer has no audioContent")
    try:
        return base64.b64decode(content, validate=True)
    except binascii.Error as error:
        raise TTSError(f"{PROVIDER}: audioContent is not base64") from error


def price_tier(voice: str) -> str:
    """The price row of a voice name: ``en-US-Neural2-F`` is ``neural2``,
    ``en-US-Chirp3-HD-Achernar`` is ``chirp3-hd``."""
    parts = voice.split("-")
    return "-".join(parts[2:-1]).lower() if len(parts) > 3 else "*"


def error_message(response: httpx.Response) -> str:
    """Google's ``{error: {code, message, status}}``, else the body's text."""
    error = response.json().get("error")
    if not isinstance(error, dict) or not error.get("message"):
        return error_text(response)
    return f"{error['message']} ({error.get('status', 'error')})"
