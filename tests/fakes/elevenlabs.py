"""A fake ElevenLabs API on a ``FakeServer``, after ElevenLabs' API reference.

``POST /v1/text-to-speech/{voice_id}/with-timestamps?output_format=pcm_24000`` with the key in
the ``xi-api-key`` header and a JSON body ``{text, model_id, language_code?, voice_settings?}``.
The answer is ``{audio_base64, alignment, normalized_alignment}``; an alignment is
``{characters, character_start_times_seconds, character_end_times_seconds}``, one entry per
character of the text. ``pcm_<rate>`` audio is raw signed 16-bit little-endian mono.
Errors are ``{detail: {status, message}}``: a missing or wrong key 401 (``invalid_api_key``),
an unknown voice 404 (``voice_not_found``), a text over the model's limit 400
(``max_character_limit_exceeded``); a body without ``text`` is a 422 with FastAPI's
``{detail: [{loc, msg, type}]}``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request
from tests.fakes.speech import CHAR_S, LEAD_S, speech_samples

# Characters per request (ElevenLabs' models page).
MODEL_LIMITS = {
    "eleven_multilingual_v2": 10_000,
    "eleven_flash_v2_5": 40_000,
    "eleven_turbo_v2_5": 40_000,
}
SAMPLE_RATES = {"pcm_16000": 16_000, "pcm_22050": 22_050, "pcm_24000": 24_000, "pcm_44100": 44_100}


def error_reply(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Reply:
    return Reply(
        status=status,
        body=json.dumps({"detail": {"status": code, "message": message}}).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def alignment(text: str) -> dict[str, list[Any]]:
    return {
        "characters": list(text),
        "character_start_times_seconds": [round(LEAD_S + i * CHAR_S, 3) for i in range(len(text))],
        "character_end_times_seconds": [
            round(LEAD_S + (i + 1) * CHAR_S, 3) for i in range(len(text))
        ],
    }


class FakeElevenLabs:
    """Serves ``voices`` on ``server``; ``calls`` lists (voice, query, body) answered."""

    def __init__(self, server: FakeServer, *, api_key: str, voices: list[str]) -> None:
        self.server = server
        self.api_key = api_key
        self.voices = voices
        self.calls: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        for voice in [*voices, "unknown-voice"]:
            server.route(self.path(voice), self.handle)

    @staticmethod
    def path(voice: str) -> str:
        return f"/v1/text-to-speech/{voice}/with-timestamps"

    def requests(self) -> list[Request]:
        return [r for voice in self.voices for r in self.server.hits(self.path(voice))]

    def handle(self, request: Request) -> Reply:
        if request.method != "POST":
            return Reply(status=405, body=b'{"detail":"Method Not Allowed"}')
        if request.headers.get("xi-api-key") != self.api_key:
            return error_reply(401, "invalid_api_key", "Invalid API key")
        voice = request.path.split("/")[3]
        if voice not in self.voices:
            return error_reply(
                404, "voice_not_found", f"A voice with the voice_id {voice} was not found."
            )
        body = json.loads(request.body or b"{}")
        text = body.get("text")
        if not isinstance(text, str):
            return Reply(
                status=422,
                body=json.dumps(
                    {
                        "detail": [
                            {"loc": ["body", "text"], "msg": "Field required", "type": "missing"}
                        ]
                    }
                ).encode(),
                headers={"Content-Type": "application/json"},
            )
        model = body.get("model_id", "eleven_multilingual_v2")
        limit = MODEL_LIMITS.get(model)
        if limit is None:
            return error_reply(400, "model_not_found", f"Model {model} does not exist.")
        if len(text) > limit:
            return error_reply(
                400,
                "max_character_limit_exceeded",
                f"Text is too long: {len(text)} characters; the limit is {limit}.",
            )
        output_format = request.query.get("output_format", "mp3_44100_128")
        if output_format not in SAMPLE_RATES:
            return error_reply(400, "invalid_output_format", f"{output_format} is not served here")
        self.calls.append((voice, dict(request.query), body))
        samples = speech_samples(text, SAMPLE_RATES[output_format])
        answer = {
            "audio_base64": base64.b64encode(samples.tobytes()).decode(),
            "alignment": alignment(text),
            "normalized_alignment": alignment(text),
        }
        return Reply(body=json.dumps(answer).encode(), headers={"Content-Type": "application/json"})
