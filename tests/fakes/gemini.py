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

The Batch API (``batches`` below): ``POST /{version}/models/{model}:batchGenerateContent`` with
``{batch: {displayName, inputConfig: {requests: {requests: [{request, metadata}]}}}}`` (inlined
``GenerateContentRequest``s, each with the caller's ``metadata``) answers a long-running
``Operation`` ``{name: "batches/{id}", metadata: GenerateContentBatch}``; ``GET
/{version}/batches/{id}`` answers it again, its ``metadata.state`` going from
``BATCH_STATE_PENDING`` through ``BATCH_STATE_RUNNING`` to one of ``BATCH_STATE_SUCCEEDED``,
``_FAILED``, ``_CANCELLED`` or ``_EXPIRED`` (then ``done: true``). A succeeded batch carries
``metadata.output.inlinedResponses.inlinedResponses``, in the order of the requests, each a
``GenerateContentResponse`` (``response``) or a ``Status`` (``error``), with the request's
``metadata``; a failed one an ``error`` ``Status``. ``POST /{version}/batches/{id}:cancel``
cancels it.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.fakes.faults import with_faults
from tests.fakes.net import forbid_outside_connections, running_server
from tests.fakes.server import FakeServer, Handler, Reply, Request

API_VERSIONS = ("v1beta", "v1")
BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch"
OUTPUT_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput"
PENDING, RUNNING = "BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"
SUCCEEDED, FAILED = "BATCH_STATE_SUCCEEDED", "BATCH_STATE_FAILED"
CANCELLED, EXPIRED = "BATCH_STATE_CANCELLED", "BATCH_STATE_EXPIRED"
DONE = frozenset({SUCCEEDED, FAILED, CANCELLED, EXPIRED})
TIME = "2026-12-06T06:00:00Z"
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
        self.create_handler: Handler = self.create_batch
        self.batches: dict[str, FakeBatch] = {}
        self.batch_outcome = SUCCEEDED
        """The state a batch ends in."""
        self.batch_polls = 2
        """``batches.get`` calls that see a new batch still pending or running."""
        self.batch_error: Callable[[dict[str, Any]], dict[str, Any] | None] = lambda _b: None
        """A request of a batch that fails alone: its ``Status`` (``{code, message}``)."""
        self.echo_batch_metadata = True
        """Whether a batch's responses carry their request's ``metadata`` (Google documents
        the field; answers are in the order of the requests either way)."""
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        for version in API_VERSIONS:
            for model in [*models, "unknown-model"]:
                path = f"/{version}/models/{model}:generateContent"
                server.route(path, lambda request: self.handler(request))
                batch = f"/{version}/models/{model}:batchGenerateContent"
                server.route(batch, lambda request: self.create_handler(request))

    def inject(self, *faults: Reply) -> None:
        """The next requests get ``faults`` (tests/fakes/faults.py), one each, in order."""
        self.handler = with_faults(self.generate, faults)

    @property
    def paths(self) -> list[str]:
        return [f"/{v}/models/{m}:generateContent" for v in API_VERSIONS for m in self.models]

    def requests(self) -> list[Request]:
        return [r for path in self.paths for r in self.server.hits(path)]

    def model_of(self, request: Request, method: str) -> tuple[str, str] | Reply:
        """The API version and model of ``/{version}/models/{model}:{method}``, or Google's
        refusal: no or a wrong key, a model it does not serve."""
        refused = key_refusal(request, self.api_key)
        if refused is not None:
            return refused
        version, _, rest = request.path.strip("/").partition("/")
        model = rest.removeprefix("models/").removesuffix(f":{method}")
        if model not in self.models:
            return error_reply(
                404,
                "NOT_FOUND",
                f"models/{model} is not found for API version {version}, or is not supported "
                f"for {method}.",
            )
        return version, model

    def generate(self, request: Request) -> Reply:
        found = self.model_of(request, "generateContent")
        if isinstance(found, Reply):
            return found
        _, model = found
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
        return Reply(
            body=json.dumps(self.response(model, body), ensure_ascii=False).encode(),
            headers=JSON,
        )

    def response(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        """The ``GenerateContentResponse`` to a request: the model's answer, or a blocked
        prompt when ``answer`` gives None."""
        text = self.answer(model, body)
        prompt = tokens(prompt_text(body))
        if text is None:
            return {
                "promptFeedback": {"blockReason": "SAFETY"},
                "usageMetadata": {"promptTokenCount": prompt, "totalTokenCount": prompt},
                "modelVersion": model,
            }
        candidates = tokens(text)
        return {
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

    # --- the Batch API -------------------------------------------------------------------

    def inject_batch(self, *faults: Reply) -> None:
        """The next batch creations get ``faults``, one each, in order."""
        self.create_handler = with_faults(self.create_batch, faults)

    def batch_creations(self) -> list[Request]:
        return [
            r
            for v in API_VERSIONS
            for m in self.models
            for r in self.server.hits(f"/{v}/models/{m}:batchGenerateContent")
        ]

    def create_batch(self, request: Request) -> Reply:
        found = self.model_of(request, "batchGenerateContent")
        if isinstance(found, Reply):
            return found
        version, model = found
        try:
            batch = json.loads(request.body)["batch"]
            inlined = batch["inputConfig"]["requests"]["requests"]
            bodies = [entry["request"] for entry in inlined]
        except (ValueError, KeyError, TypeError):
            return error_reply(400, "INVALID_ARGUMENT", "Invalid batch: inlined requests needed.")
        if not bodies or not all(isinstance(b, dict) and b.get("contents") for b in bodies):
            return error_reply(400, "INVALID_ARGUMENT", "* every request needs contents")
        if not batch.get("displayName"):
            return error_reply(400, "INVALID_ARGUMENT", "* batch.display_name is required")
        with self._lock:
            name = f"batches/fake{next(self._ids)}"
            job = FakeBatch(
                name=name,
                model=model,
                display_name=batch["displayName"],
                requests=inlined,
                outcome=self.batch_outcome,
                polls_left=self.batch_polls,
            )
            self.batches[name] = job
        for path, action in ((name, self.poll), (f"{name}:cancel", self.cancel)):
            self.server.route(
                f"/{version}/{path}",
                lambda r, job=job, action=action: self.on_batch(r, job, action),
            )
        return json_reply(job.operation())

    def on_batch(
        self, request: Request, job: FakeBatch, action: Callable[[FakeBatch], dict[str, Any]]
    ) -> Reply:
        """``batches.get`` (``poll``) or ``batches.cancel`` of ``job``, for a caller with the
        key."""
        refused = key_refusal(request, self.api_key)
        if refused is not None:
            return refused
        with self._lock:
            return json_reply(action(job))

    def poll(self, job: FakeBatch) -> dict[str, Any]:
        job.advance(self)
        return job.operation()

    def cancel(self, job: FakeBatch) -> dict[str, Any]:
        if job.state not in DONE:
            job.state = CANCELLED
        return {}

    def batch_result(self, model: str, entry: dict[str, Any]) -> dict[str, Any]:
        """One inlined response: ``batch_error`` may fail a request with a ``Status``."""
        result: dict[str, Any] = {}
        error = self.batch_error(entry["request"])
        if error is not None:
            result["error"] = error
        else:
            self.calls.append((model, entry["request"]))
            result["response"] = self.response(model, entry["request"])
        if self.echo_batch_metadata and "metadata" in entry:
            result["metadata"] = entry["metadata"]
        return result


@dataclass
class FakeBatch:
    name: str
    model: str
    display_name: str
    requests: list[dict[str, Any]]
    outcome: str
    polls_left: int
    """``batches.get`` calls that see the job still pending or running."""
    state: str = PENDING
    output: dict[str, Any] | None = None
    polls: int = field(default=0)

    def advance(self, fake: FakeGemini) -> None:
        self.polls += 1
        if self.state in DONE:
            return
        if self.polls_left > 0:
            self.polls_left -= 1
            self.state = RUNNING
            return
        self.state = self.outcome
        if self.state == SUCCEEDED:
            results = [fake.batch_result(self.model, entry) for entry in self.requests]
            self.output = {"inlinedResponses": {"inlinedResponses": results}}

    def operation(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "@type": BATCH_TYPE,
            "model": f"models/{self.model}",
            "displayName": self.display_name,
            "createTime": TIME,
            "updateTime": TIME,
            "batchStats": {
                "requestCount": str(len(self.requests)),
                "pendingRequestCount": "0" if self.state in DONE else str(len(self.requests)),
            },
            "state": self.state,
            "name": self.name,
        }
        operation: dict[str, Any] = {"name": self.name, "metadata": metadata}
        if self.state in DONE:
            operation["done"] = True
            metadata["endTime"] = TIME
        if self.output is not None:
            metadata["output"] = self.output
            operation["response"] = {"@type": OUTPUT_TYPE, **self.output}
        elif self.state == FAILED:
            operation["error"] = {"code": 13, "message": "Batch failed: internal error."}
        return operation


def json_reply(value: dict[str, Any]) -> Reply:
    return Reply(body=json.dumps(value, ensure_ascii=False).encode(), headers=JSON)


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
