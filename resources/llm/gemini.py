"""Gemini as the script writer, through the google-genai SDK.

Analysis and the safety judge use the cheap model (``AUTOCLIP_GEMINI_ANALYSIS_MODEL``), the
script the quality one (``AUTOCLIP_GEMINI_SCRIPT_MODEL``). Each answer is structured output
with a pydantic schema as the response schema; the prompts are the versioned files in
``prompts/``. An answer that fails validation is asked for once more with the validation
error, then the call fails with ``LLMError``. Answers are cached by (provider, model, prompt
version, input), so rerunning an item makes no call.

Requests are built and answers parsed by the pure functions below; ``GeminiLLM`` adds the
SDK, retries, the rate limit, the cache and usage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import httpx
import httpx2
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from autoclip_core.nlp.language import detect_language
from autoclip_core.nlp.sentences import split_sentences
from autoclip_core.nlp.speech import SPEAKING_RATES
from autoclip_core.schemas import (
    ContentAnalysis,
    Language,
    SafetyFinding,
    SafetyVerdict,
    Script,
    SourceItem,
    TopicSelection,
)
from resources.errors import LLMError
from resources.llm.base import (
    AnalysisQuestion,
    JudgeQuestion,
    LLMResource,
    Prepared,
    Question,
    question_content,
)
from resources.vendors.base import VendorResource
from resources.vendors.http import (
    TRANSPORT_ERRORS,
    RetryPolicy,
    retrying,
    status_error,
    transport_error,
    unreadable_error,
)

if TYPE_CHECKING:  # the SDK is imported where it is called: every process that loads the
    # pipeline (each run worker) imports this module, most never call Gemini (~0.5 s)
    from google import genai
    from google.genai import types
from resources.vendors.prices import BATCH
from resources.vendors.ratelimit import limiter_for
from resources.vendors.usage import (
    priced,
    report_cache_hit,
    report_exchange,
    report_usage,
    reporting_to,
)

PROVIDER = "gemini"
PROMPTS = Path(__file__).parent / "prompts"
LANGUAGE_NAMES: dict[Language, str] = {"en": "English", "ko": "Korean"}
TARGET_SECONDS: dict[Language, int] = {"en": 40, "ko": 50}
"""Spoken length of a script: Korean news reads a little longer for the same story."""
MAX_ARTICLE_CHARS = 12_000
"""Longer articles are cut: the summary needs the lead, and tokens cost."""
HANGUL = range(0xAC00, 0xD7A4)
INLINE_LIMIT_BYTES = 16_000_000
"""Inlined requests of one batch stay under this (Google's limit is 20 MB a batch; the rest is
room for the schema and the JSON around each request)."""
REFUSALS = frozenset({"SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "RECITATION"})
"""Finish reasons (``types.FinishReason`` values) of an answer withheld by the filters."""

Answer = TypeVar("Answer", bound=BaseModel)
Sent = TypeVar("Sent")
BATCH_SUCCEEDED = "JOB_STATE_SUCCEEDED"
BATCH_ENDED = frozenset(
    {BATCH_SUCCEEDED, "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"}
)
"""Batch states (``types.JobState`` values) after which a batch changes no more."""


class AnalysisAnswer(BaseModel):
    """What the model adds to the local analysis (language and sentences are counted here)."""

    model_config = ConfigDict(extra="forbid")
    summary: list[str] = Field(min_length=1, max_length=8)
    keywords: list[str] = Field(min_length=1, max_length=12)
    topic: str = Field(min_length=1, max_length=60)


class JudgeAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    safe: bool
    categories: list[str] = Field(default_factory=list)
    reason: str


@dataclass(frozen=True)
class Prompt:
    version: str
    """The file's name without ``.txt``, e.g. ``script.v1``: part of every cache key."""
    text: str


@cache
def prompt(version: str) -> Prompt:
    return Prompt(version, (PROMPTS / f"{version}.txt").read_text(encoding="utf-8"))


ANALYSIS_PROMPT, SCRIPT_PROMPT, JUDGE_PROMPT = "analysis.v1", "script.v1", "judge.v1"


@dataclass(frozen=True)
class Ask:
    """One structured question: system instruction, the user's text and the answer schema."""

    prompt: Prompt
    system: str
    text: str
    schema: type[BaseModel]

    def cache_payload(self) -> dict[str, Any]:
        return {"system": self.system, "text": self.text, "schema": self.schema.__name__}


# --- requests ---------------------------------------------------------------------------


def item_language(item: SourceItem) -> Language:
    if item.language in LANGUAGE_NAMES:
        return item.language  # type: ignore[return-value]
    return detect_language(f"{item.title}\n{item.text}")


def analysis_ask(item: SourceItem, language: Language) -> Ask:
    p = prompt(ANALYSIS_PROMPT)
    system = Template(p.text).substitute(language_name=LANGUAGE_NAMES[language])
    text = f"Title: {item.title}\n\n{item.text[:MAX_ARTICLE_CHARS]}"
    return Ask(p, system, text, AnalysisAnswer)


def spoken_budget(language: Language) -> str:
    rate = SPEAKING_RATES[language]
    units = rate.per_minute * TARGET_SECONDS[language] // 60
    return f"{units} {rate.unit}" + (" without spaces" if rate.unit == "characters" else "")


def script_ask(item: SourceItem, analysis: ContentAnalysis) -> Ask:
    p = prompt(SCRIPT_PROMPT)
    language = analysis.language
    system = Template(p.text).substitute(
        language=language,
        language_name=LANGUAGE_NAMES[language],
        budget=spoken_budget(language),
    )
    text = "\n".join(
        [
            f"Title: {item.title}",
            f"URL: {item.url}",
            f"Topic: {analysis.topic}",
            f"Keywords: {', '.join(analysis.keywords)}",
            "Key sentences:",
            *(f"- {s}" for s in analysis.summary),
        ]
    )
    return Ask(p, system, text, Script)


def judge_ask(text: str, language: Language) -> Ask:
    p = prompt(JUDGE_PROMPT)
    system = Template(p.text).substitute(language_name=LANGUAGE_NAMES[language])
    return Ask(p, system, text[:MAX_ARTICLE_CHARS], JudgeAnswer)


def retry_text(error: str) -> str:
    """The follow-up turn after an answer that failed validation."""
    return (
        f"Your answer did not validate: {error}\n"
        "Answer again with JSON that follows the schema exactly."
    )


# --- answers ----------------------------------------------------------------------------


def parse_answer(text: str | None, schema: type[Answer]) -> Answer:
    """The answer's JSON as ``schema``; ``ValidationError`` (or ``ValueError`` for an empty
    answer) when it does not fit."""
    if not text:
        raise ValueError("the answer was empty")
    return schema.model_validate_json(text)


def check_language(script: Script, language: Language) -> None:
    """A Korean item's script is written in Korean (and an English one not in Korean)."""
    if script.language != language:
        raise ValueError(f"language is {script.language!r}, expected {language!r}")
    spoken = "".join(script.spoken_parts())
    letters = [c for c in spoken if c.isalpha()]
    hangul = sum(ord(c) in HANGUL for c in letters) / max(len(letters), 1)
    if language == "ko" and hangul < 0.5:
        raise ValueError("the narration is not written in Korean")
    if language == "en" and hangul > 0.1:
        raise ValueError("the narration is not written in English")


def analysis_from(item: SourceItem, language: Language, answer: AnalysisAnswer) -> ContentAnalysis:
    return ContentAnalysis(
        language=language,
        word_count=len(item.text.split()),
        sentences=split_sentences(item.text, language),
        summary=answer.summary,
        keywords=answer.keywords,
        topic=answer.topic,
    )


def verdict(answer: JudgeAnswer) -> SafetyVerdict:
    if answer.safe:
        return SafetyVerdict(passed=True)
    detail = ", ".join(answer.categories) or "unsafe"
    return SafetyVerdict(
        passed=False,
        findings=[SafetyFinding(rule="judge", detail=f"{detail}: {answer.reason}")],
    )


def usage_units(usage: Any) -> dict[str, float]:
    """Token counts of a ``GenerateContentResponse.usage_metadata`` (zero when absent), in
    the units of ``resources/vendors/prices.py``. A thinking model's thoughts are billed as
    output, so they count with the answer's tokens."""

    def count(name: str) -> float:
        return float(getattr(usage, name, None) or 0)

    return {
        "input_tokens": count("prompt_token_count"),
        "output_tokens": count("candidates_token_count") + count("thoughts_token_count"),
    }


class Refusal(LLMError):
    """Gemini's safety filters withheld the answer: asking again gets the same."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def block_reason(response: types.GenerateContentResponse) -> str | None:
    """Why Gemini's safety filters withheld the answer (the prompt or the candidate), or None.
    Asking again gets the same refusal, so it is not retried."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        return f"prompt blocked ({feedback.block_reason.value})"
    candidates = response.candidates or []
    reason = candidates[0].finish_reason if candidates else None
    if reason is not None and reason.value in REFUSALS:
        return f"answer withheld ({reason.value})"
    return None


def vendor_error(exc: Exception, secrets: tuple[str, ...]) -> LLMError:
    """An SDK or transport failure as ``LLMError``, by the shared vendor policy: 429 and 5xx,
    timeouts, resets and a body that is not JSON may pass; other 4xx (a bad key, an unknown
    model) will not."""
    from google.genai import errors as genai_errors

    if isinstance(exc, genai_errors.APIError):
        headers = getattr(exc.response, "headers", None) or {}
        return status_error(
            LLMError,
            PROVIDER,
            exc.code,
            f"{exc.message or ''} ({exc.status or 'error'})".strip(),
            retry_after=headers.get("retry-after"),
            secrets=secrets,
        )
    if isinstance(exc, TRANSPORT_ERRORS):
        return transport_error(LLMError, PROVIDER, exc)
    return unreadable_error(LLMError, PROVIDER)


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


def user_turn(ask: Ask) -> types.Content:
    from google.genai import types

    return types.Content(role="user", parts=[types.Part(text=ask.text)])


def report(
    model: str,
    ask: Ask,
    contents: list[types.Content],
    response: types.GenerateContentResponse,
    units: dict[str, float],
) -> None:
    """An answer's cost and the exchange itself, to the item's record of vendor calls."""
    report_usage(priced(PROVIDER, model, units))
    report_exchange(
        PROVIDER,
        model,
        {
            "system": ask.system,
            "contents": [c.model_dump(mode="json", exclude_none=True) for c in contents],
        },
        response.model_dump(mode="json", exclude_none=True),
    )


def _no_check(_answer: BaseModel) -> None:
    pass


def _miss_all(prepared: Prepared, pending: list[Pending], why: str) -> None:
    for question in pending:
        for content_id in question.contents:
            prepared.miss(content_id, why)


class GeminiLLM(LLMResource, VendorResource):
    """Analysis, scripts and a safety judge from Gemini (google-genai)."""

    vendor: ClassVar[str] = PROVIDER

    analysis_model: str = Field(description="Cheap tier: analysis and the safety judge.")
    script_model: str = Field(description="Quality tier: scripts.")
    temperature: float = Field(default=0.4, ge=0, le=2)
    batch_poll_s: float = Field(default=30.0, gt=0, description="Between looks at a batch.")
    batch_wait_s: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="How long a batch may take (Google's target) before it is cancelled.",
    )

    _client: genai.Client | None = PrivateAttr(default=None)
    _sleep: Callable[[float], None] = PrivateAttr(default=time.sleep)

    # --- LLMResource ----------------------------------------------------------------------

    def analyze(self, item: SourceItem) -> ContentAnalysis:
        language = item_language(item)
        answer = self._answer(self.analysis_model, analysis_ask(item, language))
        return analysis_from(item, language, answer)  # type: ignore[arg-type]

    def write_script(
        self, item: SourceItem, analysis: ContentAnalysis, selection: TopicSelection
    ) -> Script:
        """``selection`` does not change the script: every template gets the same one."""
        language = analysis.language
        return self._answer(  # type: ignore[return-value]
            self.script_model,
            script_ask(item, analysis),
            check=lambda script: check_language(script, language),  # type: ignore[arg-type]
        )

    def judge(self, text: str, language: Language) -> SafetyVerdict:
        """Gemini's verdict; text its own safety filters refuse to judge is unsafe."""
        try:
            answer = self._answer(self.analysis_model, judge_ask(text, language))
        except Refusal as refusal:
            finding = SafetyFinding(rule="judge", detail=f"Gemini's filters: {refusal.reason}")
            return SafetyVerdict(passed=False, findings=[finding])
        return verdict(answer)  # type: ignore[arg-type]

    # --- calls ----------------------------------------------------------------------------

    def _answer(
        self,
        model: str,
        ask: Ask,
        check: Callable[[BaseModel], None] = _no_check,
    ) -> BaseModel:
        """The cached answer, else the model's, asked again once when it does not validate."""
        cache = self.answer_cache()
        key = cache.key(PROVIDER, model, ask.prompt.version, ask.cache_payload())
        cached = cache.get_json(key)
        if cached is not None:
            report_cache_hit(PROVIDER)
            return ask.schema.model_validate(cached)
        contents = [user_turn(ask)]
        for attempt in (1, 2):
            text = self._generate(model, ask, contents)
            try:
                answer = parse_answer(text, ask.schema)
                check(answer)
            except (ValidationError, ValueError) as exc:
                error = _validation_summary(exc)
                if attempt == 2:
                    raise LLMError(
                        f"gemini {model} answered twice without a valid {ask.schema.__name__}: "
                        f"{error}"
                    ) from None
                from google.genai import types

                contents += [
                    types.Content(role="model", parts=[types.Part(text=text or "")]),
                    types.Content(role="user", parts=[types.Part(text=retry_text(error))]),
                ]
                continue
            cache.put_json(key, answer.model_dump(mode="json"))
            return answer
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _generate(self, model: str, ask: Ask, contents: list[types.Content]) -> str | None:
        """One answer's text (usage reported), retried per the vendor policy."""
        config = self._config(ask)
        response = self._call(
            lambda client: client.models.generate_content(
                model=model, contents=contents, config=config
            )
        )
        report(model, ask, contents, response, usage_units(response.usage_metadata))
        blocked = block_reason(response)
        if blocked:
            raise Refusal(f"gemini {model} refused to answer: {blocked}", reason=blocked)
        return response.text

    def _config(self, ask: Ask) -> types.GenerateContentConfig:
        from google.genai import types

        return types.GenerateContentConfig(
            system_instruction=ask.system,
            response_mime_type="application/json",
            response_schema=ask.schema,
            temperature=self.temperature,
        )

    def _call(self, request: Callable[[genai.Client], Sent]) -> Sent:
        """``request`` through the SDK at the rate limit, retried per the vendor policy."""
        from google.genai import errors as genai_errors

        client = self._sdk()
        limiter = limiter_for(
            PROVIDER, overrides=self.requests_per_minute, redis_url=self.redis_url
        )

        def once() -> Sent:
            if limiter is not None:
                limiter.acquire()
            try:
                return request(client)
            except (genai_errors.APIError, httpx.HTTPError, httpx2.HTTPError, ValueError) as exc:
                failure = vendor_error(exc, (self.api_key,))
            # Raised outside the handler: the SDK's exception (its message repeats the
            # vendor's body verbatim) stays out of __context__ and so out of run logs.
            raise failure

        return retrying(once, policy=RetryPolicy(attempts=self.attempts), sleep=self._sleep)

    # --- the Batch API --------------------------------------------------------------------

    def prepare(self, questions: Sequence[Question]) -> Prepared:
        """The questions not cached yet go to Gemini's Batch API, one batch per model (the
        cheap one for analyses and verdicts, the quality one for scripts), as inlined requests
        keyed by their cache key; each batch is followed until it ends. Every valid answer is
        cached under its key, its tokens charged to its item at the batch rate; a question
        whose batch failed, was cancelled or expired, or whose answer is missing, refused or
        invalid, is left to the ordinary call."""
        prepared = Prepared()
        cache = self.answer_cache()
        groups: dict[str, dict[str, Pending]] = {}
        for question in questions:
            model, ask, check = self._question(question)
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

    def _question(self, question: Question) -> tuple[str, Ask, Callable[[BaseModel], None]]:
        """The model, the question and the check of its answer, as the one-by-one calls ask."""
        if isinstance(question, AnalysisQuestion):
            item = question.item
            return self.analysis_model, analysis_ask(item, item_language(item)), _no_check
        if isinstance(question, JudgeQuestion):
            return self.analysis_model, judge_ask(question.text, question.language), _no_check
        language = question.analysis.language
        return (
            self.script_model,
            script_ask(question.item, question.analysis),
            lambda script: check_language(script, language),  # type: ignore[arg-type]
        )

    def _submit(self, model: str, pending: list[Pending]) -> types.BatchJob:
        from google.genai import types

        requests = [
            types.InlinedRequest(
                contents=[user_turn(p.ask)],
                metadata={"key": p.key},
                config=self._config(p.ask),
            )
            for p in pending
        ]
        config = types.CreateBatchJobConfig(display_name=f"autoclip {model} x{len(pending)}")
        return self._call(
            lambda client: client.batches.create(model=model, src=requests, config=config)
        )

    def _follow(self, job: types.BatchJob) -> types.BatchJob:
        """The batch once it ended, looked at every ``batch_poll_s``; one still running after
        ``batch_wait_s`` is cancelled (and returned as it last was)."""
        name = str(job.name)
        waited = 0.0
        while job.state is None or job.state.value not in BATCH_ENDED:
            if waited >= self.batch_wait_s:
                try:
                    self._call(lambda client: client.batches.cancel(name=name))
                except LLMError:
                    pass  # it ends by itself when Google's 48 hours are up; nothing is read
                return job
            self._sleep(self.batch_poll_s)
            waited += self.batch_poll_s
            job = self._call(lambda client: client.batches.get(name=name))
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
            _miss_all(prepared, [question], f"{what}: {_validation_summary(exc)}")
            return
        self.answer_cache().put_json(question.key, answer.model_dump(mode="json"))
        for content_id in question.contents:
            prepared.answered[content_id] = prepared.answered.get(content_id, 0) + 1

    def _sdk(self) -> genai.Client:
        if not self.api_key:
            raise LLMError("gemini: GEMINI_API_KEY is not set")
        if self._client is None:
            from google import genai
            from google.genai import types

            self._client = genai.Client(
                api_key=self.api_key,
                http_options=types.HttpOptions(
                    base_url=self.base_url,
                    timeout=int(self.timeout_s * 1000),
                    # One attempt each: ``retrying`` owns the policy, Retry-After included.
                    retry_options=types.HttpRetryOptions(attempts=1),
                ),
            )
        return self._client


def _validation_summary(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}"
            for e in exc.errors()[:5]
        )
    return str(exc)
