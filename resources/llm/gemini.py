"""Gemini as the script writer, through the google-genai SDK.

Analysis and the safety judge use the cheap model (``AUTOCLIP_GEMINI_ANALYSIS_MODEL``), the
script the quality one (``AUTOCLIP_GEMINI_SCRIPT_MODEL``). Each answer is structured output
with a pydantic schema as the response schema; the prompts are the versioned files in
``prompts/``. An answer that fails validation is asked for once more with the validation
error, then the call fails with ``LLMError``. Answers are cached by (provider, model, prompt
version, input), so rerunning an item makes no call.

Requests are built and answers parsed by the functions of ``gemini_transforms.py``;
``GeminiLLM`` adds the SDK, retries, the rate limit, the cache and usage, and hands the
questions of many items to the Batch API (``gemini_batch.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar, TypeVar

import httpx
import httpx2
from pydantic import BaseModel, Field, PrivateAttr, ValidationError

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
from resources.llm.base import AnalysisQuestion, JudgeQuestion, LLMResource, Prepared, Question
from resources.llm.gemini_batch import BatchRun
from resources.llm.gemini_transforms import (
    PROVIDER,
    Ask,
    Refusal,
    analysis_ask,
    analysis_from,
    block_reason,
    check_language,
    item_language,
    judge_ask,
    no_check,
    parse_answer,
    report,
    retry_text,
    script_ask,
    usage_units,
    user_turn,
    validation_summary,
    vendor_error,
    verdict,
)
from resources.vendors.base import VendorResource
from resources.vendors.http import RetryPolicy, retrying
from resources.vendors.ratelimit import limiter_for
from resources.vendors.usage import report_cache_hit

if TYPE_CHECKING:  # the SDK is imported where it is called: every process that loads the
    # pipeline (each run worker) imports this module, most never call Gemini (~0.5 s)
    from google import genai
    from google.genai import types

Sent = TypeVar("Sent")


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
        check: Callable[[BaseModel], None] = no_check,
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
                error = validation_summary(exc)
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
        config = self.generation_config(ask)
        response = self.call(
            lambda client: client.models.generate_content(
                model=model, contents=contents, config=config
            )
        )
        report(model, ask, contents, response, usage_units(response.usage_metadata))
        blocked = block_reason(response)
        if blocked:
            raise Refusal(f"gemini {model} refused to answer: {blocked}", reason=blocked)
        return response.text

    def generation_config(self, ask: Ask) -> types.GenerateContentConfig:
        from google.genai import types

        return types.GenerateContentConfig(
            system_instruction=ask.system,
            response_mime_type="application/json",
            response_schema=ask.schema,
            temperature=self.temperature,
        )

    def call(self, request: Callable[[genai.Client], Sent]) -> Sent:
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
        """The questions not cached yet go to Gemini's Batch API (``gemini_batch.py``); every
        valid answer is cached, the rest left to the ordinary call."""
        return BatchRun(self, self._sleep).prepare(questions)

    def ask_for(self, question: Question) -> tuple[str, Ask, Callable[[BaseModel], None]]:
        """The model, the question and the check of its answer that the one-by-one calls
        (``analyze``, ``write_script``, ``judge``) would use: what a batch asks instead."""
        if isinstance(question, AnalysisQuestion):
            item = question.item
            return self.analysis_model, analysis_ask(item, item_language(item)), no_check
        if isinstance(question, JudgeQuestion):
            return self.analysis_model, judge_ask(question.text, question.language), no_check
        language = question.analysis.language
        return (
            self.script_model,
            script_ask(question.item, question.analysis),
            lambda script: check_language(script, language),  # type: ignore[arg-type]
        )

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
