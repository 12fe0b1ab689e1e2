from __future__ import annotations

import pytest

from autoclip_core.nlp.phrases import split_caption_phrases
from autoclip_core.schemas import Language
from tests.core.nlp.articles import EN_ARTICLE, KO_ARTICLE


@pytest.mark.parametrize(
    ("text", "language", "limit"), [(EN_ARTICLE, "en", 32), (KO_ARTICLE, "ko", 16)]
)
def test_phrases_respect_the_default_limit_and_keep_every_word(
    text: str, language: Language, limit: int
) -> None:
    phrases = split_caption_phrases(text, language)
    assert all(0 < len(p) <= limit for p in phrases)
    assert " ".join(phrases).split() == text.split()


@pytest.mark.parametrize("limit", [12, 20, 40])  # longest word: 11 characters
def test_custom_limits(limit: int) -> None:
    phrases = split_caption_phrases(EN_ARTICLE, "en", limit)
    assert all(0 < len(p) <= limit for p in phrases)
    assert " ".join(phrases).split() == EN_ARTICLE.split()


def test_breaks_after_sentences_and_clauses_first() -> None:
    text = (
        "Seoul will raise subway fares by 150 won in October, officials said. "
        "Yes, he said, it works."
    )
    assert split_caption_phrases(text, "en") == [
        "Seoul will raise subway",
        "fares by 150 won in October,",
        "officials said.",
        "Yes, he said, it works.",
    ]


def test_korean_breaks_between_words_only() -> None:
    text = "서울시는 10월부터 지하철 기본요금을 150원 올린다고 화요일 밝혔다."
    phrases = split_caption_phrases(text, "ko")
    assert phrases == ["서울시는 10월부터 지하철", "기본요금을 150원", "올린다고 화요일 밝혔다."]
    words = set(text.split())
    assert all(word in words for p in phrases for word in p.split())


def test_a_clause_whose_words_fill_every_line_exactly_is_split() -> None:
    assert split_caption_phrases("aaaa bbbb cccc dddd", "en", 9) == ["aaaa bbbb", "cccc dddd"]
    korean = "시는 운영 적자가 커지고 있어 불가피한 결정이라고 설명했다."  # two full lines of 16
    assert split_caption_phrases(korean, "ko") == [
        "시는 운영 적자가 커지고 있어",
        "불가피한 결정이라고 설명했다.",
    ]


def test_a_word_longer_than_the_limit_is_cut() -> None:
    phrases = split_caption_phrases("The Llanfairpwllgwyngyll station reopened.", "en", 12)
    assert all(0 < len(p) <= 12 for p in phrases)
    assert "".join(phrases).replace(" ", "") == "TheLlanfairpwllgwyngyllstationreopened."


def test_blank_text_has_no_phrases_and_bad_limit_is_refused() -> None:
    assert split_caption_phrases(" \n ", "en") == []
    with pytest.raises(ValueError, match="max_chars"):
        split_caption_phrases("text", "en", 0)
