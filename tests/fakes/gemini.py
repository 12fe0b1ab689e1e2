"""A fake Gemini API (Generative Language API) on a ``FakeServer``, after Google's REST docs.

``POST /{v1beta|v1}/models/{model}:generateContent`` with the key in the ``x-goog-api-key``
header (or a ``key`` query parameter). The body carries ``contents[].parts[].text``, an
optional ``systemInstruction`` and ``generationConfig``; the answer is
``{candidates: [{content: {role: "model", parts: [{text}]}, finishReason, index}],
usageMetadata: {promptTokenCount, candidatesTokenCount, totalTokenCount}, modelVersion}``.
A blocked prompt answers 200 with ``promptFeedback.blockReason`` and no candidates.
Errors are ``{error: {code, message, status}}``: no key 403 PERMISSION_DENIED, a wrong key
400 INVALID_ARGUMENT (reason API_KEY_INVALID), an unknown model 404 NOT_FOUND, a body
without ``contents`` 400 INVALID_ARGUMENT.

What the model answers is the test's choice: ``answer(model, body) -> str`` (the candidate
text). Token counts are a quarter of the characters, as Google's docs estimate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.fakes.faults import with_faults
from tests.fakes.net import forbid_outside_connections, running_server
from tests.fakes.server import FakeServer, Handler, Reply, Request

API_VERSIONS = ("v1beta", "v1")
JSON = {"Content-Type": "application/json; charset=UTF-8"}
Answer = Callable[[str, dict[str, Any]], str | None]
"""The candidate's text; None: the prompt is blocked (``promptFeedback.blockReason``)."""


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
        headers=JSON,
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
        prompt = tokens(prompt_text(body))
        if text is None:
            blocked = {
                "promptFeedback": {"blockReason": "SAFETY"},
                "usageMetadata": {"promptTokenCount": prompt, "totalTokenCount": prompt},
                "modelVersion": model,
            }
            return Reply(body=json.dumps(blocked).encode(), headers=JSON)
        candidates = tokens(text)
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
        return Reply(body=json.dumps(answer, ensure_ascii=False).encode(), headers=JSON)


@contextmanager
def running_gemini(
    monkeypatch: pytest.MonkeyPatch, *, api_key: str, models: list[str]
) -> Iterator[FakeGemini]:
    """A fake Gemini answering as ``model_answer``; nothing outside loopback is reachable."""
    forbid_outside_connections(monkeypatch)
    with running_server() as server:
        yield FakeGemini(server, api_key=api_key, models=models, answer=model_answer)


# --- a model for the tests: fixed answers about the sample subway-fare story -----------

EN_SCRIPT = {
    "title": "Seoul subway fares rise",
    "hook": "Seoul's subway just got more expensive.",
    "scenes": [
        {
            "narration": "The fare rises by 150 won in October.",
            "on_screen_text": "+150 won",
            "visual_query": "seoul subway",
        },
        {
            "narration": "Seoul Metro lost 1.2 trillion won last year.",
            "on_screen_text": "Deficit",
            "visual_query": "train station",
        },
        {
            "narration": "Commuter groups say it hurts low-income workers.",
            "on_screen_text": "Criticism",
            "visual_query": "commuters",
        },
    ],
    "call_to_action": "Follow for more.",
    "hashtags": ["#Seoul", "#Subway", "#Fares"],
    "description": "Seoul raises subway fares.\nhttps://news.example.com/fares",
    "language": "en",
}
KO_SCRIPT = {
    "title": "서울 지하철 요금 인상",
    "hook": "서울 지하철 요금이 8년 만에 오릅니다.",
    "scenes": [
        {
            "narration": "기본요금이 10월부터 150원 오릅니다.",
            "on_screen_text": "150원 인상",
            "visual_query": "서울 지하철",
        },
        {
            "narration": "서울교통공사는 지난해 1조 2천억 원 적자를 냈습니다.",
            "on_screen_text": "적자",
            "visual_query": "지하철역",
        },
        {
            "narration": "시민단체는 저소득층 부담을 우려합니다.",
            "on_screen_text": "반발",
            "visual_query": "출퇴근",
        },
    ],
    "call_to_action": "더 많은 소식을 보려면 팔로우하세요.",
    "hashtags": ["#서울", "#지하철", "#요금"],
    "description": "서울시가 지하철 요금을 올립니다.\nhttps://news.example.com/fares",
    "language": "ko",
}
ANALYSIS = {
    "summary": [
        "Seoul will raise subway fares.",
        "Seoul Metro lost money.",
        "Commuter groups criticised the decision.",
    ],
    "keywords": ["subway fares", "Seoul Metro"],
    "topic": "Transport",
}
KO_ANALYSIS = {
    "summary": [
        "서울시가 지하철 기본요금을 인상한다.",
        "서울교통공사는 적자를 기록했다.",
        "시민단체는 반발했다.",
    ],
    "keywords": ["지하철 요금", "서울교통공사"],
    "topic": "교통",
}


def model_answer(model: str, body: dict[str, Any]) -> str:
    """A well-behaved model for AutoClip's prompts: an answer of the schema asked for (an
    analysis, a script or a safety verdict), in the language the instruction names."""
    schema = body["generationConfig"]["responseSchema"]
    system = body["systemInstruction"]["parts"][0]["text"]
    korean = "Korean" in system
    if "scenes" in schema["properties"]:
        return json.dumps(KO_SCRIPT if korean else EN_SCRIPT, ensure_ascii=False)
    if "safe" in schema["properties"]:
        return json.dumps({"safe": True, "categories": [], "reason": "news"})
    return json.dumps(KO_ANALYSIS if korean else ANALYSIS, ensure_ascii=False)
