"""A fake Gemini API (Generative Language API) on a ``FakeServer``, after Google's REST docs.

``POST /{v1beta|v1}/models/{model}:generateContent`` with the key in the ``x-goog-api-key``
header (or a ``key`` query parameter). The body carries ``contents[].parts[].text``, an
optional ``systemInstruction`` and ``generationConfig``; the answer is
``{candidates: [{content: {role: "model", parts: [{text}]}, finishReason, index}],
usageMetadata: {promptTokenCount, candidatesTokenCount, totalTokenCount}, modelVersion}``.
Errors are ``{error: {code, message, status}}``: no key 403 PERMISSION_DENIED, a wrong key
400 INVALID_ARGUMENT (reason API_KEY_INVALID), an unknown model 404 NOT_FOUND, a body
without ``contents`` 400 INVALID_ARGUMENT.

What the model answers is the test's choice: ``answer(model, body) -> str`` (the candidate
text). Token counts are a quarter of the characters, as Google's docs estimate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.fakes.faults import with_faults
from tests.fakes.server import FakeServer, Handler, Reply, Request

API_VERSIONS = ("v1beta", "v1")
Answer = Callable[[str, dict[str, Any]], str]


def error_reply(code: int, status: str, message: str, reason: str | None = None) -> Reply:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
            }
        ]
    return Reply(
        status=code,
        body=json.dumps({"error": error}).encode(),
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )


def key_refusal(request: Request, api_key: str) -> Reply | None:
    """Google APIs' answer to a request without ``api_key`` (header or ``key`` parameter)."""
    key = request.headers.get("x-goog-api-key") or request.query.get("key")
    if not key:
        return error_reply(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established "
            "identity). Please use API Key or other form of API consumer identity to call "
            "this API.",
        )
    if key != api_key:
        return error_reply(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            reason="API_KEY_INVALID",
        )
    return None


def tokens(text: str) -> int:
    return max(1, len(text) // 4)


def prompt_text(body: dict[str, Any]) -> str:
    """Every text part of the request: system instruction and contents."""
    parts = [
        *body.get("systemInstruction", {}).get("parts", []),
        *(part for content in body.get("contents", []) for part in content.get("parts", [])),
    ]
    return "\n".join(part.get("text", "") for part in parts)


class FakeGemini:
    """Serves ``models`` on ``server``; ``calls`` lists (model, request body) answered."""

    def __init__(
        self, server: FakeServer, *, api_key: str, models: list[str], answer: Answer
    ) -> None:
        self.server = server
        self.api_key = api_key
        self.models = models
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.handler: Handler = self.generate
        """What answers a request: ``generate``, or a test's wrapper of it."""
        for version in API_VERSIONS:
            for model in [*models, "unknown-model"]:
                path = f"/{version}/models/{model}:generateContent"
                server.route(path, lambda request: self.handler(request))

    def inject(self, *faults: Reply) -> None:
        """The next requests get ``faults`` (tests/fakes/faults.py), one each, in order."""
        self.handler = with_faults(self.generate, faults)

    @property
    def paths(self) -> list[str]:
        return [f"/{v}/models/{m}:generateContent" for v in API_VERSIONS for m in self.models]

    def requests(self) -> list[Request]:
        return [r for path in self.paths for r in self.server.hits(path)]

    def generate(self, request: Request) -> Reply:
        refused = key_refusal(request, self.api_key)
        if refused is not None:
            return refused
        version, _, rest = request.path.strip("/").partition("/")
        model = rest.removeprefix("models/").removesuffix(":generateContent")
        if model not in self.models:
            return error_reply(
                404,
                "NOT_FOUND",
                f"models/{model} is not found for API version {version}, or is not supported "
                "for generateContent.",
            )
        try:
            body = json.loads(request.body)
        except ValueError:
            return error_reply(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if not isinstance(body, dict) or not body.get("contents"):
            return error_reply(
                400,
                "INVALID_ARGUMENT",
                "* GenerateContentRequest.contents: contents is not specified",
            )
        self.calls.append((model, body))
        text = self.answer(model, body)
        prompt, candidates = tokens(prompt_text(body)), tokens(text)
        answer = {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": text}]},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": prompt,
                "candidatesTokenCount": candidates,
                "totalTokenCount": prompt + candidates,
            },
            "modelVersion": model,
            "responseId": f"fake-{len(self.calls)}",
        }
        return Reply(
            body=json.dumps(answer, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json; charset=UTF-8"},
        )
