"""A fake Google Cloud Text-to-Speech API on a ``FakeServer``, after Google's REST reference.

``POST /v1/text:synthesize`` with the API key in ``X-Goog-Api-Key`` or a ``key`` query
parameter and a body ``{input: {text}, voice: {languageCode, name}, audioConfig:
{audioEncoding, sampleRateHertz?}}``; the answer is ``{audioContent}``, base64. LINEAR16 audio
is a WAV file (Google includes the header). Errors are ``{error: {code, message, status}}``:
no key 403 PERMISSION_DENIED, a wrong key 400 INVALID_ARGUMENT (reason API_KEY_INVALID), an
unknown voice or an input over 5000 bytes 400 INVALID_ARGUMENT.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.fakes.gemini import error_reply, key_refusal
from tests.fakes.server import FakeServer, Reply, Request
from tests.fakes.speech import speech_samples, wav_bytes

SYNTHESIZE_PATH = "/v1/text:synthesize"
MAX_INPUT_BYTES = 5000


class FakeGoogleTTS:
    """Serves ``voices`` (name -> language code); ``calls`` lists the bodies answered."""

    def __init__(self, server: FakeServer, *, api_key: str, voices: dict[str, str]) -> None:
        self.server = server
        self.api_key = api_key
        self.voices = voices
        self.calls: list[dict[str, Any]] = []
        server.route(SYNTHESIZE_PATH, self.synthesize)

    def requests(self) -> list[Request]:
        return self.server.hits(SYNTHESIZE_PATH)

    def synthesize(self, request: Request) -> Reply:
        refused = key_refusal(request, self.api_key)
        if refused is not None:
            return refused
        try:
            body = json.loads(request.body)
            text = body["input"]["text"]
            voice = body["voice"]
            encoding = body["audioConfig"]["audioEncoding"]
        except (json.JSONDecodeError, KeyError, TypeError):
            return error_reply(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        name = voice.get("name")
        if name not in self.voices or self.voices[name] != voice.get("languageCode"):
            return error_reply(
                400,
                "INVALID_ARGUMENT",
                f"Voice '{name}' does not exist. Is it misspelled?",
            )
        if len(text.encode()) > MAX_INPUT_BYTES:
            return error_reply(
                400,
                "INVALID_ARGUMENT",
                f"Either `input.text` or `input.ssml` is longer than the limit of "
                f"{MAX_INPUT_BYTES} bytes.",
            )
        if encoding != "LINEAR16":
            return error_reply(400, "INVALID_ARGUMENT", f"{encoding} is not served by this fake")
        rate = int(body["audioConfig"].get("sampleRateHertz") or 24_000)
        self.calls.append(body)
        audio = wav_bytes(speech_samples(text, rate), rate)
        return Reply(
            body=json.dumps({"audioContent": base64.b64encode(audio).decode()}).encode(),
            headers={"Content-Type": "application/json; charset=UTF-8"},
        )
