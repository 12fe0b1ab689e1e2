"""Gemini's Batch API for ``GeminiLLM.prepare``: the questions of many items not answered yet
go out as one batch per model (the cheap one for analyses and verdicts, the quality one for
scripts), as inlined requests keyed by their cache key, and each batch is followed until it
ends. Every valid answer is cached under its key and its tokens charged to its item at the
batch rate; whatever the batch did not answer is left to the ordinary call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from resources.errors import LLMError
from resources.llm.base import Prepared, Question, question_content
from resources.llm.gemini_transforms import (
    PROVIDER,
    Ask,
    block_reason,
    parse_answer,
    report,
    usage_units,
    user_turn,
    validation_summary,
)
from resources.vendors.cache import AnswerCache
from resources.vendors.prices import BATCH
from resources.vendors.usage import reporting_to

if TYPE_CHECKING:  # the SDK is imported where it is called: every process that loads the
    # pipeline (each run worker) imports this module, most never call Gemini (~0.5 s)
    from google import genai
    from google.genai import types

INLINE_LIMIT_BYTES = 16_000_000
"""Inlined requests of one batch stay under this (Google's limit is 20 MB a batch; the rest is
room for the schema and the JSON around each request)."""
BATCH_SUCCEEDED = "JOB_STATE_SUCCEEDED"
BATCH_ENDED = frozenset(
    {BATCH_SUCCEEDED, "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"}
)
"""Batch states (``types.JobState`` values) after which a batch changes no more."""


@dataclass
class Pending:
    """A question of a batch: its cache key and the items that ask it (the same text asked for
    two items is one request)."""

    key: str
    contents: list[str]
    ask: Ask
    check: Callable[[BaseModel], None]


def inline_batches(pending: list[Pending]) -> list[list[Pending]]:
    """``pending`` in batches whose inlined requests stay under ``INLINE_LIMIT_BYTES``."""
    batches: list[list[Pending]] = [[]]
    size = 0
    for question in pending:
        need = len(question.ask.system.encode()) + len(question.ask.text.encode()) + 2_000
        if batches[-1] and size + need > INLINE_LIMIT_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(question)
        size += need
    return [batch for batch in batches if batch]


def _miss_all(prepared: Prepared, pending: list[Pending], why: str) -> None:
    for question in pending:
        for content_id in question.contents:
            prepared.miss(content_id, why)


Sent = TypeVar("Sent")


class BatchingLLM(Protocol):
    """What a batch run needs of ``GeminiLLM``: the model and question each question maps to,
    the generation config, its SDK calls and answer cache, and how it follows a batch."""

    batch_poll_s: float
    batch_wait_s: float

    def ask_for(self, question: Question) -> tuple[str, Ask, Callable[[BaseModel], None]]: ...

    def generation_config(self, ask: Ask) -> types.GenerateContentConfig: ...

    def call(self, request: Callable[[genai.Client], Sent]) -> Sent: ...

    def answer_cache(self) -> AnswerCache: ...


class BatchRun:
    """One ``prepare`` of ``llm``; ``sleep`` between looks at a batch."""

    def __init__(self, llm: BatchingLLM, sleep: Callable[[float], None]) -> None:
        self.llm = llm
        self.sleep = sleep

    def prepare(self, questions: Sequence[Question]) -> Prepared:
        """A question whose batch failed, was cancelled or expired, or whose answer is
        missing, refused or invalid, is a miss: the ordinary call answers it."""
        prepared = Prepared()
        cache = self.llm.answer_cache()
        groups: dict[str, dict[str, Pending]] = {}
        for question in questions:
            model, ask, check = self.llm.ask_for(question)
            key = cache.key(PROVIDER, model, ask.prompt.version, ask.cache_payload())
            content_id = question_content(question)
            if cache.get_json(key) is not None:
                prepared.answered[content_id] = prepared.answered.get(content_id, 0) + 1
                continue
            group = groups.setdefault(model, {})
            if key in group:
                group[key].contents.append(content_id)
            else:
                group[key] = Pending(key, [content_id], ask, check)
        submitted: list[tuple[str, types.BatchJob, list[Pending]]] = []
        for model, group in groups.items():
            for pending in inline_batches(list(group.values())):
                try:
                    submitted.append((model, self._submit(model, pending), pending))
                except LLMError as error:
                    _miss_all(prepared, pending, f"no batch of {model}: {error}")
        for model, job, pending in submitted:
            try:
                job = self._follow(job)
            except LLMError as error:
                _miss_all(prepared, pending, f"batch {job.name} could not be followed: {error}")
                continue
            self._collect(model, job, pending, prepared)
        return prepared

    def _submit(self, model: str, pending: list[Pending]) -> types.BatchJob:
        from google.genai import types

        requests = [
            types.InlinedRequest(
                contents=[user_turn(p.ask)],
                metadata={"key": p.key},
                config=self.llm.generation_config(p.ask),
            )
            for p in pending
        ]
        config = types.CreateBatchJobConfig(display_name=f"autoclip {model} x{len(pending)}")
        return self.llm.call(
            lambda client: client.batches.create(model=model, src=requests, config=config)
        )

    def _follow(self, job: types.BatchJob) -> types.BatchJob:
        """The batch once it ended, looked at every ``batch_poll_s``; one still running after
        ``batch_wait_s`` is cancelled (and returned as it last was)."""
        name = str(job.name)
        waited = 0.0
        while job.state is None or job.state.value not in BATCH_ENDED:
            if waited >= self.llm.batch_wait_s:
                try:
                    self.llm.call(lambda client: client.batches.cancel(name=name))
                except LLMError:
                    pass  # it ends by itself when Google's 48 hours are up; nothing is read
                return job
            self.sleep(self.llm.batch_poll_s)
            waited += self.llm.batch_poll_s
            job = self.llm.call(lambda client: client.batches.get(name=name))
        return job

    def _collect(
        self, model: str, job: types.BatchJob, pending: list[Pending], prepared: Prepared
    ) -> None:
        """Each answer of an ended batch joined to its question by key (or, for answers
        without their request's metadata, by position: Google keeps the requests' order)."""
        state = job.state.value if job.state is not None else "JOB_STATE_UNSPECIFIED"
        prepared.batches[str(job.name)] = state
        if state != BATCH_SUCCEEDED:
            why = "still running: cancelled" if state not in BATCH_ENDED else "ended"
            _miss_all(prepared, pending, f"batch {job.name} {why} {state}")
            return
        by_key = {p.key: p for p in pending}
        results = (job.dest.inlined_responses if job.dest is not None else None) or []
        for index, result in enumerate(results):
            key = (result.metadata or {}).get("key")
            if key is None and index < len(pending):
                key = pending[index].key
            question = by_key.pop(key or "", None)
            if question is not None:
                self._take(model, question, result, prepared)
        _miss_all(prepared, list(by_key.values()), f"batch {job.name} has no answer to it")

    def _take(
        self,
        model: str,
        question: Pending,
        result: types.InlinedResponse,
        prepared: Prepared,
    ) -> None:
        what = question.ask.schema.__name__
        response = result.response
        if result.error is not None or response is None:
            message = result.error.message if result.error is not None else "no response"
            _miss_all(prepared, [question], f"{what}: {message}")
            return
        units = {BATCH + unit: n for unit, n in usage_units(response.usage_metadata).items()}
        with reporting_to(prepared.calls_of(question.contents[0])):
            report(model, question.ask, [user_turn(question.ask)], response, units)
        blocked = block_reason(response)
        if blocked:
            _miss_all(prepared, [question], f"{what}: {blocked}")
            return
        try:
            answer = parse_answer(response.text, question.ask.schema)
            question.check(answer)
        except (ValidationError, ValueError) as exc:
            _miss_all(prepared, [question], f"{what}: {validation_summary(exc)}")
            return
        self.llm.answer_cache().put_json(question.key, answer.model_dump(mode="json"))
        for content_id in question.contents:
            prepared.answered[content_id] = prepared.answered.get(content_id, 0) + 1
