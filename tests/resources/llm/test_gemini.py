"""GeminiLLM through the real google-genai SDK against a fake Gemini API (tests/fakes/gemini.py)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from google.genai import types

from autoclip_core.schemas import ContentAnalysis, Script, SourceItem, TopicSelection
from autoclip_core.settings import Settings
from resources.errors import LLMError
from resources.llm.base import LLMResource
from resources.llm.gemini import GeminiLLM
from resources.llm.gemini_transforms import usage_units
from resources.registry import provider
from resources.vendors.prices import cost_usd
from resources.vendors.usage import recording_usage
from tests.core.nlp.articles import EN_ARTICLE, EN_TITLE, KO_ARTICLE, KO_TITLE
from tests.fakes.faults import malformed_json, rate_limited, reset, stall
from tests.fakes.gemini import (
    ANALYSIS,
    EN_SCRIPT,
    KO_SCRIPT,
    FakeGemini,
    error_reply,
    prompt_text,
    tokens,
)
from tests.fakes.server import Reply, Request
from tests.resources.llm.gemini_setup import CHEAP, KEY, QUALITY, QUOTA_EXCEEDED, make_llm

SELECTION = TopicSelection(selected=True, score=0.9, reason="test")


def item(title: str = EN_TITLE, text: str = EN_ARTICLE) -> SourceItem:
    return SourceItem(
        id="item-1",
        project="demo",
        source="feeds/news.xml",
        url="https://news.example.com/fares",
        title=title,
        text=text,
    )


def analysis(language: str = "en") -> ContentAnalysis:
    return ContentAnalysis(
        language=language,
        word_count=100,
        sentences=["One.", "Two.", "Three."],
        summary=["One.", "Two.", "Three."],
        keywords=["subway"],
        topic="Transport",
    )


def test_a_script_request_has_the_documented_shape(fake: FakeGemini, llm: GeminiLLM) -> None:
    llm.write_script(item(), analysis(), SELECTION)
    [request] = fake.requests()
    assert request.method == "POST"
    assert request.path == f"/v1/models/{QUALITY}:generateContent"
    assert request.headers["x-goog-api-key"] == KEY
    assert "key" not in request.query
    body = json.loads(request.body)
    assert body["contents"][0]["role"] == "user"
    assert EN_TITLE in body["contents"][0]["parts"][0]["text"]
    assert "English" in body["systemInstruction"]["parts"][0]["text"]
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseSchema"]["properties"]) == set(Script.model_fields)


def test_analysis_uses_the_cheap_model_and_counts_sentences_itself(
    fake: FakeGemini, llm: GeminiLLM
) -> None:
    result = llm.analyze(item())
    assert [model for model, _ in fake.calls] == [CHEAP]
    assert result.language == "en"
    assert result.summary == ANALYSIS["summary"]
    assert result.keywords == ANALYSIS["keywords"]
    assert result.topic == "Transport"
    assert len(result.sentences) > 5
    assert result.word_count == len(EN_ARTICLE.split())


def test_the_answer_is_parsed_into_the_script_schema(llm: GeminiLLM) -> None:
    script = llm.write_script(item(), analysis(), SELECTION)
    assert script == Script.model_validate(EN_SCRIPT)


def test_a_korean_item_gets_a_korean_script(fake: FakeGemini, llm: GeminiLLM) -> None:
    korean = item(KO_TITLE, KO_ARTICLE)
    script = llm.write_script(korean, llm.analyze(korean), SELECTION)
    assert script.language == "ko"
    assert script.hook == KO_SCRIPT["hook"]
    systems = [body["systemInstruction"]["parts"][0]["text"] for _, body in fake.calls]
    assert all("Korean" in s for s in systems)
    assert "characters without spaces" in systems[1]


def test_an_english_answer_to_a_korean_item_is_asked_again(
    fake: FakeGemini, llm: GeminiLLM
) -> None:
    answers = [json.dumps({**EN_SCRIPT, "language": "ko"}), json.dumps(KO_SCRIPT)]
    fake.answer = lambda _m, _b: answers.pop(0)
    script = llm.write_script(item(KO_TITLE, KO_ARTICLE), analysis("ko"), SELECTION)
    assert script.language == "ko"
    second = fake.calls[1][1]["contents"]
    assert "not written in Korean" in second[-1]["parts"][0]["text"]


def test_an_invalid_answer_is_asked_again_with_the_validation_error(
    fake: FakeGemini, llm: GeminiLLM
) -> None:
    two_scenes = {**EN_SCRIPT, "scenes": EN_SCRIPT["scenes"][:2]}
    answers = [json.dumps(two_scenes), json.dumps(EN_SCRIPT)]
    fake.answer = lambda _m, _b: answers.pop(0)
    script = llm.write_script(item(), analysis(), SELECTION)
    assert len(script.scenes) == 3
    first, second = (body["contents"] for _, body in fake.calls)
    assert len(first) == 1
    assert [c["role"] for c in second] == ["user", "model", "user"]
    assert second[1]["parts"][0]["text"] == json.dumps(two_scenes)
    assert "scenes" in second[2]["parts"][0]["text"]
    assert "at least 3" in second[2]["parts"][0]["text"]


def test_a_second_invalid_answer_fails_clearly(fake: FakeGemini, llm: GeminiLLM) -> None:
    fake.answer = lambda _m, _b: '{"title": "only a title"}'
    with pytest.raises(LLMError, match="answered twice without a valid Script") as caught:
        llm.write_script(item(), analysis(), SELECTION)
    assert not caught.value.retryable
    assert len(fake.calls) == 2


def test_a_rerun_is_answered_from_the_cache(
    fake: FakeGemini, llm: GeminiLLM, tmp_path: Path, sleeps: list[float]
) -> None:
    first = llm.write_script(item(), llm.analyze(item()), SELECTION)
    assert len(fake.calls) == 2
    again = make_llm(fake, tmp_path / "cache", sleeps)
    assert again.write_script(item(), again.analyze(item()), SELECTION) == first
    assert len(fake.requests()) == 2


def test_another_script_model_is_not_answered_from_the_cache(
    fake: FakeGemini, llm: GeminiLLM, tmp_path: Path, sleeps: list[float]
) -> None:
    llm.write_script(item(), analysis(), SELECTION)
    other = make_llm(fake, tmp_path / "cache", sleeps, script_model=CHEAP)
    other.write_script(item(), analysis(), SELECTION)
    assert [model for model, _ in fake.calls] == [QUALITY, CHEAP]


def test_429_is_retried_after_the_retry_after_it_asks(
    fake: FakeGemini, llm: GeminiLLM, sleeps: list[float]
) -> None:
    fake.inject(rate_limited(3, body=QUOTA_EXCEEDED))
    llm.write_script(item(), analysis(), SELECTION)
    assert len(fake.requests()) == 2
    assert sleeps == [pytest.approx(3.0)]


def test_503_is_retried_a_bounded_number_of_times(
    fake: FakeGemini, llm: GeminiLLM, sleeps: list[float]
) -> None:
    overloaded = error_reply(503, "UNAVAILABLE", "The model is overloaded.")
    fake.inject(overloaded, overloaded, overloaded, overloaded)
    overloaded_message = r"gemini: HTTP 503: The model is overloaded\. \(UNAVAILABLE\)"
    with pytest.raises(LLMError, match=overloaded_message) as caught:
        llm.write_script(item(), analysis(), SELECTION)
    assert caught.value.retryable
    assert len(fake.requests()) == 3
    assert len(sleeps) == 2
    assert 0 < sleeps[0] < sleeps[1] <= 8.0


def test_a_retry_after_past_the_cap_is_left_to_the_run(
    fake: FakeGemini, llm: GeminiLLM, sleeps: list[float]
) -> None:
    fake.inject(rate_limited(120, body=QUOTA_EXCEEDED))
    with pytest.raises(LLMError) as caught:
        llm.write_script(item(), analysis(), SELECTION)
    assert (caught.value.retryable, caught.value.retry_after) == (True, 120.0)
    assert sleeps == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"api_key": "wrong-key-9876543210"}, "HTTP 400: API key not valid"),
        ({"script_model": "unknown-model"}, "HTTP 404: models/unknown-model is not found"),
    ],
)
def test_4xx_fails_at_once_with_the_vendors_message(
    fake: FakeGemini,
    tmp_path: Path,
    sleeps: list[float],
    config: dict[str, Any],
    message: str,
) -> None:
    llm = make_llm(fake, tmp_path, sleeps, **config)
    with pytest.raises(LLMError, match=message) as caught:
        llm.write_script(item(), analysis(), SELECTION)
    assert not caught.value.retryable
    assert len(fake.server.requests) == 1
    assert sleeps == []


def test_403_fails_at_once_with_the_vendors_message(
    fake: FakeGemini, llm: GeminiLLM, sleeps: list[float]
) -> None:
    fake.inject(error_reply(403, "PERMISSION_DENIED", "The caller does not have permission"))
    denied = r"gemini: HTTP 403: The caller does not have permission \(PERMISSION_DENIED\)"
    with pytest.raises(LLMError, match=denied) as caught:
        llm.write_script(item(), analysis(), SELECTION)
    assert not caught.value.retryable
    assert (len(fake.server.requests), sleeps) == (1, [])


def test_no_key_fails_before_any_request(
    fake: FakeGemini, tmp_path: Path, sleeps: list[float]
) -> None:
    llm = make_llm(fake, tmp_path, sleeps, api_key="")
    with pytest.raises(LLMError, match="GEMINI_API_KEY is not set") as caught:
        llm.analyze(item())
    assert not caught.value.retryable
    assert fake.server.requests == []


def test_malformed_json_is_retried(fake: FakeGemini, llm: GeminiLLM) -> None:
    fake.inject(malformed_json())
    assert llm.write_script(item(), analysis(), SELECTION).language == "en"
    assert len(fake.requests()) == 2


def test_a_stall_past_the_timeout_is_retried(
    fake: FakeGemini, tmp_path: Path, sleeps: list[float]
) -> None:
    llm = make_llm(fake, tmp_path, sleeps, timeout_s=0.5)
    fake.inject(stall(2.0))
    assert llm.write_script(item(), analysis(), SELECTION).language == "en"
    assert len(fake.requests()) == 2


def test_a_reset_connection_is_retried(fake: FakeGemini, llm: GeminiLLM) -> None:
    fake.inject(reset())
    assert llm.write_script(item(), analysis(), SELECTION).language == "en"
    assert len(fake.requests()) == 2


def test_the_key_is_in_no_error_and_no_log(
    fake: FakeGemini, tmp_path: Path, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    def echo_key(request: Request) -> Reply:
        # A vendor (or a proxy) that repeats the request's key in its error.
        key = request.headers["x-goog-api-key"]
        return error_reply(400, "INVALID_ARGUMENT", f"API key not valid: {key}")

    fake.handler = echo_key
    llm = make_llm(fake, tmp_path, sleeps)
    with caplog.at_level(logging.DEBUG), pytest.raises(LLMError) as caught:
        llm.write_script(item(), analysis(), SELECTION)
    assert "API key not valid" in str(caught.value)
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value.__cause__) + repr(caught.value.__context__)
    assert KEY not in caplog.text


def test_the_judge_turns_an_unsafe_answer_into_a_failed_verdict(
    fake: FakeGemini, llm: GeminiLLM
) -> None:
    fake.answer = lambda _m, _b: json.dumps(
        {"safe": False, "categories": ["harassment"], "reason": "insults a private person"}
    )
    verdict = llm.judge("some text", "en")
    assert verdict is not None
    assert not verdict.passed
    assert verdict.findings[0].rule == "judge"
    assert "harassment" in verdict.reason
    assert [model for model, _ in fake.calls] == [CHEAP]


def test_a_text_already_judged_is_answered_from_the_cache(fake: FakeGemini, llm: GeminiLLM) -> None:
    """Two items whose scripts read the same (the fake model writes one per language) are
    judged once: the post-check of the second makes no call."""
    first, second = llm.judge("The same script.", "en"), llm.judge("The same script.", "en")
    assert first == second
    assert len(fake.calls) == 1


def test_the_judge_passes_safe_text(llm: GeminiLLM) -> None:
    verdict = llm.judge("서울 지하철 요금이 오릅니다.", "ko")
    assert verdict is not None
    assert verdict.passed


def test_each_call_reports_its_tokens_and_cost(
    fake: FakeGemini, llm: GeminiLLM, tmp_path: Path, sleeps: list[float]
) -> None:
    with recording_usage(None, None) as calls:
        llm.write_script(item(), analysis(), SELECTION)
    [usage] = calls.usages
    (_, body) = fake.calls[0]
    assert (usage.provider, usage.model) == ("gemini", QUALITY)
    assert usage.units == {
        "input_tokens": float(tokens(prompt_text(body))),
        "output_tokens": float(tokens(json.dumps(EN_SCRIPT))),
    }
    assert usage.cost_usd == cost_usd("gemini", QUALITY, usage.units) > 0
    with recording_usage(None, None) as rerun:
        make_llm(fake, tmp_path / "cache", sleeps).write_script(item(), analysis(), SELECTION)
    assert (rerun.usages, rerun.cache_hits) == ([], {"gemini": 1})


def test_the_registry_builds_gemini_with_the_key_from_the_environment(
    fake: FakeGemini, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    settings = Settings(
        data_dir=tmp_path,
        llm_provider="gemini",
        gemini_base_url=fake.server.base,
        gemini_analysis_model=CHEAP,
        gemini_script_model=QUALITY,
    )
    llm = provider("llm", settings)
    assert isinstance(llm, GeminiLLM)
    assert (llm.analysis_model, llm.script_model) == (CHEAP, QUALITY)

    @dg.asset
    def topic(llm: LLMResource) -> str:
        return llm.analyze(item()).topic

    result = dg.materialize([topic], resources={"llm": llm})
    assert result.output_for_node("topic") == ANALYSIS["topic"]
    [request] = fake.requests()
    assert request.headers["x-goog-api-key"] == KEY


def test_thinking_tokens_are_counted_as_output() -> None:
    usage = types.GenerateContentResponseUsageMetadata(
        prompt_token_count=100, candidates_token_count=40, thoughts_token_count=60
    )
    assert usage_units(usage) == {"input_tokens": 100.0, "output_tokens": 100.0}
    assert usage_units(None) == {"input_tokens": 0.0, "output_tokens": 0.0}


def test_a_blocked_prompt_fails_at_once_with_the_reason(
    fake: FakeGemini, llm: GeminiLLM, sleeps: list[float]
) -> None:
    fake.answer = lambda _m, _b: None
    with recording_usage(None, None) as calls, pytest.raises(LLMError) as caught:
        llm.write_script(item(), analysis(), SELECTION)
    assert str(caught.value) == f"gemini {QUALITY} refused to answer: prompt blocked (SAFETY)"
    assert not caught.value.retryable
    assert (len(fake.calls), sleeps) == (1, [])
    assert len(calls.usages) == 1  # the prompt's tokens are billed all the same


def test_text_the_filters_refuse_to_judge_is_judged_unsafe(
    fake: FakeGemini, llm: GeminiLLM
) -> None:
    fake.answer = lambda _m, _b: None
    verdict = llm.judge("some text", "en")
    assert verdict is not None
    assert not verdict.passed
    assert verdict.reason == "judge: Gemini's filters: prompt blocked (SAFETY)"
