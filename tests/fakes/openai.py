"""A fake OpenAI API on a ``FakeServer``, after OpenAI's API reference.

``POST /v1/audio/speech`` with ``Authorization: Bearer <key>`` and a JSON body
``{model, input, voice, response_format?, speed?, instructions?}``; the answer is the audio
itself. ``pcm`` is raw signed 16-bit little-endian mono at 24 kHz, ``wav`` the same in a WAV
file; other formats are not served here. Errors are ``{error: {message, type, param, code}}``:
no or a wrong key 401 (``invalid_api_key``, naming the key as OpenAI does, partly masked), an
unknown model or voice, an input over 4096 characters or a missing field 400
(``invalid_request_error``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from tests.fakes.pictures import picture
from tests.fakes.server import FakeServer, Reply, Request
from tests.fakes.speech import speech_samples, wav_bytes

SPEECH_PATH = "/v1/audio/speech"
SPEECH_MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")
VOICES = ("alloy", "ash", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer")
PCM_RATE = 24_000
MAX_INPUT = 4096
# POST /v1/images/generations {model, prompt, n?, size?, response_format?}: GPT image models
# always answer b64_json and refuse response_format; DALL-E answers a URL unless asked.
IMAGES_PATH = "/v1/images/generations"
IMAGE_SIZES = {
    "gpt-image-1": ("1024x1024", "1024x1536", "1536x1024", "auto"),
    "dall-e-3": ("1024x1024", "1024x1792", "1792x1024"),
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
}


def error_reply(
    status: int, message: str, kind: str, code: str | None = None, param: str | None = None
) -> Reply:
    error = {"message": message, "type": kind, "param": param, "code": code}
    return Reply(
        status=status,
        body=json.dumps({"error": error}).encode(),
        headers={"Content-Type": "application/json"},
    )


def masked(key: str) -> str:
    return f"{key[:3]}{'*' * max(0, len(key) - 7)}{key[-4:]}" if len(key) > 7 else "***"


class FakeOpenAI:
    """Serves the speech endpoint on ``server``; ``speech_calls`` lists the bodies answered."""

    def __init__(self, server: FakeServer, *, api_key: str) -> None:
        self.server = server
        self.api_key = api_key
        self.speech_calls: list[dict[str, Any]] = []
        self.fault: Callable[[Request], Reply | None] = lambda _request: None
        """Checked first: a reply here (429, 503, …) is sent instead of the answer."""
        server.route(SPEECH_PATH, self.speech)
        self.image_calls: list[dict[str, Any]] = []
        server.route(IMAGES_PATH, self._images)

    def speech_requests(self) -> list[Request]:
        return self.server.hits(SPEECH_PATH)

    def unauthorised(self, request: Request) -> Reply | None:
        header = request.headers.get("authorization", "")
        if header == f"Bearer {self.api_key}":
            return None
        if not header.startswith("Bearer "):
            return error_reply(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
            )
        given = header.removeprefix("Bearer ")
        return error_reply(
            401,
            f"Incorrect API key provided: {masked(given)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            code="invalid_api_key",
        )

    def speech(self, request: Request) -> Reply:
        refused = self.fault(request) or self.unauthorised(request)
        if refused is not None:
            return refused
        try:
            body = json.loads(request.body)
        except json.JSONDecodeError:
            return error_reply(400, "We could not parse the JSON body.", "invalid_request_error")
        for name in ("model", "input", "voice"):
            if not isinstance(body.get(name), str):
                return error_reply(
                    400,
                    f"Missing required parameter: '{name}'.",
                    "invalid_request_error",
                    param=name,
                )
        if body["model"] not in SPEECH_MODELS:
            return error_reply(
                400, f"Invalid model: {body['model']}", "invalid_request_error", param="model"
            )
        if body["voice"] not in VOICES:
            return error_reply(
                400, f"Invalid voice: {body['voice']}", "invalid_request_error", param="voice"
            )
        if len(body["input"]) > MAX_INPUT:
            return error_reply(
                400,
                f"'input' is too long: {len(body['input'])} characters, the limit is {MAX_INPUT}.",
                "invalid_request_error",
                param="input",
            )
        response_format = body.get("response_format", "mp3")
        samples = speech_samples(body["input"], PCM_RATE)
        if response_format == "pcm":
            audio, content_type = samples.tobytes(), "audio/pcm"
        elif response_format == "wav":
            audio, content_type = wav_bytes(samples, PCM_RATE), "audio/wav"
        else:
            return error_reply(
                400, f"{response_format} is not served by this fake", "invalid_request_error"
            )
        self.speech_calls.append(body)
        return Reply(body=audio, headers={"Content-Type": content_type})

    def _images(self, request: Request) -> Reply:
        refused = self.fault(request) or self.unauthorised(request)
        if refused is not None:
            return refused
        body = json.loads(request.body)
        model, size = body.get("model", "dall-e-2"), body.get("size", "1024x1024")
        if not isinstance(body.get("prompt"), str):
            return error_reply(
                400, "Missing required parameter: 'prompt'.", "invalid_request_error"
            )
        if model not in IMAGE_SIZES or size not in IMAGE_SIZES[model]:
            return error_reply(
                400, f"Invalid size or model: {model} {size}", "invalid_request_error"
            )
        gpt_image = model.startswith("gpt-image")
        if gpt_image and "response_format" in body:
            return error_reply(
                400, "Unknown parameter: 'response_format'.", "invalid_request_error"
            )
        if not gpt_image and body.get("response_format") != "b64_json":
            return error_reply(
                400, "URL answers are not served by this fake", "invalid_request_error"
            )
        width, height = (int(n) for n in (size if size != "auto" else "1024x1536").split("x"))
        image = picture(body["prompt"], width, height, "PNG")
        self.image_calls.append(body)
        answer: dict[str, Any] = {
            "created": 1767225600,
            "data": [{"b64_json": base64.b64encode(image).decode()}],
        }
        if gpt_image:
            answer["usage"] = {"input_tokens": 50, "output_tokens": 1056, "total_tokens": 1106}
        return Reply(body=json.dumps(answer).encode(), headers={"Content-Type": "application/json"})
