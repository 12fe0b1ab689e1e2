"""GeminiLLM.prepare through the real google-genai SDK against the fake Gemini's Batch API
(tests/fakes/gemini.py): questions of many items go out as one batch per model, the answers are
joined back to their items by key and cached for the one-by-one calls, priced at the batch rate;
what a batch does not answer is left to the ordinary call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from autoclip_core.schemas import ContentAnalysis, SourceItem, TopicSelection
from resources.llm import gemini_batch
from resources.llm.base import AnalysisQuestion, JudgeQuestion, ScriptQuestion
from resources.llm.gemini import GeminiLLM
from resources.llm.gemini_transforms import analysis_ask
from resources.vendors.prices import cost_usd
from resources.vendors.usage import recording_usage
from tests.core.nlp.articles import EN_ARTICLE, EN_TITLE, KO_ARTICLE, KO_TITLE
from tests.fakes import gemini as fake_gemini
from tests.fakes.faults import rate_limited
from tests.fakes.gemini import EN_SCRIPT, FakeGemini, prompt_text, tokens
from tests.resources.llm.gemini_setup import CHEAP, KEY, QUALITY, QUOTA_EXCEEDED, make_llm

SELECTION = TopicSelection(selected=True, score=0.9, reason="test")
POLL_S = 5.0


def item(n: int, title: str = EN_TITLE, text: str = EN_ARTICLE) -> SourceItem:
    return SourceItem(
        id=f"item-{n}",
        project="demo",
        source="feeds/news.xml",
        url=f"https://news.example.com/{n}",
        title=f"{title} ({n})",
        text=text,
    )


ITEMS = [item(1), item(2), item(3, KO_TITLE, KO_ARTICLE)]


@pytest.fixture
def llm(fake: FakeGemini, tmp_path: Path, sleeps: list[float]) -> GeminiLLM:
    return make_llm(fake, tmp_path / "cache", sleeps, batch_poll_s=POLL_S)


def analyses() -> list[AnalysisQuestion]:
    return [AnalysisQuestion(i) for i in ITEMS]


def created_bodies(fake: FakeGemini) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in fake.batch_creations()]


def test_analyses_go_out_as_one_inlined_batch_keyed_per_question(
    fake: FakeGemini, llm: GeminiLLM
) -> None:
    prepared = llm.prepare(analyses())
    [creation] = fake.batch_creations()
    assert creation.path.endswith(f"/models/{CHEAP}:batchGenerateContent")
    assert creation.headers["x-goog-api-key"] == KEY
    batch = json.loads(creation.body)["batch"]
    assert batch["displayName"]
    inlined = batch["inputConfig"]["requests"]["requests"]
    assert len(inlined) == 3
    keys = [entry["metadata"]["key"] for entry in inlined]
    assert len(set(keys)) == 3
    assert all(key.startswith("gemini/") for key in keys)
    first = inlined[0]["request"]
    assert EN_TITLE in first["contents"][0]["parts"][0]["text"]
    assert "English" in first["systemInstruction"]["parts"][0]["text"]
    assert first["generationConfig"]["responseMimeType"] == "application/json"
    assert "Korean" in inlined[2]["request"]["systemInstruction"]["parts"][0]["text"]
    assert prepared.answered == {"item-1": 1, "item-2": 1, "item-3": 1}
    assert prepared.missing == {}


def test_the_batch_is_polled_until_it_ends(
    fake: FakeGemini, llm: GeminiLLM, sleeps: list[float]
) -> None:
    fake.batch_polls = 3
    prepared = llm.prepare(analyses())
    [job] = fake.batches.values()
    assert job.polls == 4
    assert sleeps == [POLL_S] * 4
    assert prepared.batches == {job.name: "JOB_STATE_SUCCEEDED"}


def test_the_one_by_one_calls_then_ask_nothing(
    fake: FakeGemini, llm: GeminiLLM, tmp_path: Path, sleeps: list[float]
) -> None:
    llm.prepare(analyses())
    asked = len(fake.server.requests)
    again = make_llm(fake, tmp_path / "cache", sleeps, batch_poll_s=POLL_S)
    with recording_usage(None, None) as calls:
        korean = again.analyze(ITEMS[2])
    assert korean.language == "ko"
    assert korean.summary == fake_gemini.KO_ANALYSIS["summary"]
    assert len(fake.server.requests) == asked
    assert (calls.usages, calls.cache_hits) == ([], {"gemini": 1})


def test_each_answer_is_charged_to_its_item_at_the_batch_rate(
    fake: FakeGemini, llm: GeminiLLM
) -> None:
    prepared = llm.prepare(analyses())
    [usage] = prepared.calls["item-1"].usages
    body = fake.calls[0][1]
    answer = json.dumps(fake_gemini.ANALYSIS)
    assert (usage.provider, usage.model) == ("gemini", CHEAP)
    assert usage.units == {
        "batch_input_tokens": float(tokens(prompt_text(body))),
        "batch_output_tokens": float(tokens(answer)),
    }
    listed = {unit.removeprefix("batch_"): n for unit, n in usage.units.items()}
    assert usage.cost_usd == pytest.approx(cost_usd("gemini", CHEAP, listed) / 2)
    assert set(prepared.calls) == {"item-1", "item-2", "item-3"}
    # What was asked and answered goes with it, for the item's documents.
    [exchange] = prepared.calls["item-1"].exchanges
    assert (exchange["provider"], exchange["model"]) == ("gemini", CHEAP)
    assert exchange["request"]["system"] == body["systemInstruction"]["parts"][0]["text"]
    assert exchange["response"]["candidates"][0]["content"]["parts"][0]["text"] == answer


def test_scripts_and_verdicts_go_to_a_batch_per_model(fake: FakeGemini, llm: GeminiLLM) -> None:
    korean = ITEMS[2]
    analysis = llm.analyze(korean)
    questions = [
        JudgeQuestion("item-3", "some text", "ko"),
        ScriptQuestion(korean, analysis),
    ]
    prepared = llm.prepare(questions)
    models = sorted(r.path.rsplit("/", 1)[1] for r in fake.batch_creations())
    assert models == [f"{CHEAP}:batchGenerateContent", f"{QUALITY}:batchGenerateContent"]
    assert prepared.answered == {"item-3": 2}
    asked = len(fake.server.requests)
    assert llm.write_script(korean, analysis, SELECTION).language == "ko"
    assert llm.judge("some text", "ko").passed  # type: ignore[union-attr]
    assert len(fake.server.requests) == asked


def test_answers_without_their_metadata_are_joined_by_position(
    fake: FakeGemini, llm: GeminiLLM
) -> None:
    fake.echo_batch_metadata = False
    prepared = llm.prepare(analyses())
    assert prepared.answered == {"item-1": 1, "item-2": 1, "item-3": 1}
    assert llm.analyze(ITEMS[2]).language == "ko"
    assert llm.analyze(ITEMS[2]).summary == fake_gemini.KO_ANALYSIS["summary"]


def test_the_same_question_for_two_items_is_asked_once(fake: FakeGemini, llm: GeminiLLM) -> None:
    same = [JudgeQuestion("a", "same text", "en"), JudgeQuestion("b", "same text", "en")]
    prepared = llm.prepare(same)
    [body] = created_bodies(fake)
    assert len(body["batch"]["inputConfig"]["requests"]["requests"]) == 1
    assert prepared.answered == {"a": 1, "b": 1}
    assert list(prepared.calls) == ["a"]


def test_questions_already_answered_are_not_sent(fake: FakeGemini, llm: GeminiLLM) -> None:
    llm.analyze(ITEMS[0])
    prepared = llm.prepare(analyses())
    [body] = created_bodies(fake)
    assert len(body["batch"]["inputConfig"]["requests"]["requests"]) == 2
    assert prepared.answered == {"item-1": 1, "item-2": 1, "item-3": 1}
    assert "item-1" not in prepared.calls


@pytest.mark.parametrize(
    ("outcome", "state"),
    [
        (fake_gemini.FAILED, "JOB_STATE_FAILED"),
        (fake_gemini.EXPIRED, "JOB_STATE_EXPIRED"),
        (fake_gemini.CANCELLED, "JOB_STATE_CANCELLED"),
    ],
)
def test_a_batch_that_does_not_succeed_leaves_its_questions_to_the_ordinary_call(
    fake: FakeGemini, llm: GeminiLLM, outcome: str, state: str
) -> None:
    fake.batch_outcome = outcome
    prepared = llm.prepare(analyses())
    [name] = prepared.batches
    assert prepared.batches[name] == state
    assert prepared.answered == {}
    assert prepared.calls == {}
    assert prepared.missing["item-1"] == [f"batch {name} ended {state}"]
    assert fake.calls == []
    assert llm.analyze(ITEMS[0]).topic == fake_gemini.ANALYSIS["topic"]
    assert len(fake.requests()) == 1


def test_a_batch_past_its_wait_is_cancelled(
    fake: FakeGemini, tmp_path: Path, sleeps: list[float]
) -> None:
    fake.batch_polls = 100
    llm = make_llm(fake, tmp_path / "cache", sleeps, batch_poll_s=POLL_S, batch_wait_s=3 * POLL_S)
    prepared = llm.prepare(analyses())
    [job] = fake.batches.values()
    assert job.state == fake_gemini.CANCELLED
    assert sleeps == [POLL_S] * 3
    assert prepared.missing["item-2"] == [
        f"batch {job.name} still running: cancelled JOB_STATE_RUNNING"
    ]


def test_a_429_on_create_is_retried_after_its_retry_after(
    fake: FakeGemini, llm: GeminiLLM, sleeps: list[float]
) -> None:
    fake.inject_batch(rate_limited(4, body=QUOTA_EXCEEDED))
    prepared = llm.prepare(analyses())
    assert len(fake.batch_creations()) == 2
    assert sleeps[0] == pytest.approx(4.0)
    assert prepared.answered == {"item-1": 1, "item-2": 1, "item-3": 1}


def test_a_batch_that_cannot_be_created_leaves_its_questions_to_the_ordinary_call(
    fake: FakeGemini, llm: GeminiLLM
) -> None:
    fake.inject_batch(*[rate_limited(1, body=QUOTA_EXCEEDED)] * 3)
    prepared = llm.prepare(analyses())
    assert fake.batches == {}
    [why] = prepared.missing["item-3"]
    assert why.startswith(f"no batch of {CHEAP}: gemini: HTTP 429: Quota exceeded.")
    assert KEY not in why


def test_an_answer_that_failed_or_does_not_validate_is_left_to_the_ordinary_call(
    fake: FakeGemini, llm: GeminiLLM
) -> None:
    def answer(model: str, body: dict[str, Any]) -> str | None:
        if "(2)" in body["contents"][0]["parts"][0]["text"]:
            return json.dumps({"summary": []})
        return fake_gemini.model_answer(model, body)

    fake.answer = answer
    fake.batch_error = lambda body: (
        {"code": 400, "message": "Request contains an invalid argument."}
        if "(1)" in body["contents"][0]["parts"][0]["text"]
        else None
    )
    prepared = llm.prepare(analyses())
    assert prepared.answered == {"item-3": 1}
    assert prepared.missing == {
        "item-1": ["AnalysisAnswer: Request contains an invalid argument."],
        "item-2": [prepared.missing["item-2"][0]],
    }
    assert prepared.missing["item-2"][0].startswith("AnalysisAnswer: summary:")
    # The invalid answer was billed all the same; the failed request was not.
    assert set(prepared.calls) == {"item-2", "item-3"}


def test_a_korean_item_answered_in_english_is_left_to_the_ordinary_call(
    fake: FakeGemini, llm: GeminiLLM
) -> None:
    fake.answer = lambda _m, _b: json.dumps({**EN_SCRIPT, "language": "ko"})
    korean = ITEMS[2]
    analysis = ContentAnalysis(
        language="ko",
        word_count=10,
        sentences=["하나.", "둘.", "셋."],
        summary=["하나.", "둘.", "셋."],
        keywords=["지하철"],
        topic="교통",
    )
    prepared = llm.prepare([ScriptQuestion(korean, analysis)])
    assert prepared.answered == {}
    assert "not written in Korean" in prepared.missing["item-3"][0]


def test_a_blocked_prompt_is_left_to_the_ordinary_call(fake: FakeGemini, llm: GeminiLLM) -> None:
    fake.answer = lambda _m, _b: None
    prepared = llm.prepare([JudgeQuestion("item-1", "text", "en")])
    assert prepared.missing == {"item-1": ["JudgeAnswer: prompt blocked (SAFETY)"]}
    assert len(prepared.calls["item-1"].usages) == 1


def test_requests_past_the_inline_size_limit_go_in_more_batches(
    fake: FakeGemini, llm: GeminiLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    ask = analysis_ask(ITEMS[0], "en")
    one = len(ask.system.encode()) + len(ask.text.encode()) + 2_000
    monkeypatch.setattr(gemini_batch, "INLINE_LIMIT_BYTES", 2.5 * one)  # two of the three fit
    prepared = llm.prepare(analyses())
    sizes = [len(b["batch"]["inputConfig"]["requests"]["requests"]) for b in created_bodies(fake)]
    assert sizes == [2, 1]
    assert prepared.answered == {"item-1": 1, "item-2": 1, "item-3": 1}
