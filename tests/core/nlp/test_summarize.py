from __future__ import annotations

from autoclip_core.nlp.sentences import split_sentences
from autoclip_core.nlp.summarize import summarize
from tests.core.nlp.articles import EN_ARTICLE, KO_ARTICLE


def _is_in_order(subset: list[str], sentences: list[str]) -> bool:
    positions = [sentences.index(s) for s in subset]
    return positions == sorted(positions)


def test_english_summary_is_central_sentences_in_original_order() -> None:
    sentences = split_sentences(EN_ARTICLE, "en")
    summary = summarize(sentences, "en", 4)
    assert len(summary) == 4
    assert set(summary) <= set(sentences)
    assert _is_in_order(summary, sentences)
    assert summary[0] == sentences[0]  # the lead carries the story
    assert "Commuter groups criticised the decision." not in summary  # too short


def test_korean_summary_is_central_sentences_in_original_order() -> None:
    sentences = split_sentences(KO_ARTICLE, "ko")
    summary = summarize(sentences, "ko", 5)
    assert len(summary) == 5
    assert _is_in_order(summary, sentences)
    assert any("요금" in s and "인상" in s for s in summary)


def test_fewer_sentences_than_asked_returns_them_all() -> None:
    sentences = ["The city will raise subway fares in October.", "Bus fares will follow next year."]
    assert summarize(sentences, "en", 5) == sentences
    assert summarize(sentences, "en", 0) == []


def test_only_short_sentences_still_give_a_summary() -> None:
    assert summarize(["Fares rise.", "Buses too."], "en", 1) == ["Fares rise."]


def test_summary_is_deterministic() -> None:
    sentences = split_sentences(EN_ARTICLE, "en")
    assert all(summarize(sentences, "en", 3) == summarize(sentences, "en", 3) for _ in range(5))
