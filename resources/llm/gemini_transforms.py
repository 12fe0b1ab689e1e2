"""What AutoClip asks Gemini and how it reads the answers, without the SDK's client (the
request/response transforms): the versioned prompts in ``prompts/``, the questions built from
an item, the answers' schemas and the checks they must pass, token usage in the units of
``resources/vendors/prices.py``, refusals by Gemini's safety filters, and vendor failures as
``LLMError``. ``gemini.py`` sends them one by one, ``gemini_batch.py`` through the Batch API.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
)
from resources.errors import LLMError
from resources.vendors.http import TRANSPORT_ERRORS, status_error, transport_error, unreadable_error
from resources.vendors.usage import priced, report_exchange, report_usage

if TYPE_CHECKING:  # the SDK is imported where it is called: every process that loads the
    # pipeline (each run worker) imports this module, most never call Gemini (~0.5 s)
    from google.genai import types

PROVIDER = "gemini"
PROMPTS = Path(__file__).parent / "prompts"
LANGUAGE_NAMES: dict[Language, str] = {"en": "English", "ko": "Korean"}
TARGET_SECONDS: dict[Language, int] = {"en": 40, "ko": 50}
"""Spoken length of a script: Korean news reads a little longer for the same story."""
MAX_ARTICLE_CHARS = 12_000
"""Longer articles are cut: the summary needs the lead, and tokens cost."""
HANGUL = range(0xAC00, 0xD7A4)
REFUSALS = frozenset({"SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "RECITATION"})
"""Finish reasons (``types.FinishReason`` values) of an answer withheld by the filters."""

Answer = TypeVar("Answer", bound=BaseModel)


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


def no_check(_answer: BaseModel) -> None:
    """The check of an answer that needs none beyond its schema."""


def validation_summary(exc: Exception) -> str:
    """A failed answer's first five validation errors in one line: told to the model when it is
    asked again, and in the error when it fails for good."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}"
            for e in exc.errors()[:5]
        )
    return str(exc)
