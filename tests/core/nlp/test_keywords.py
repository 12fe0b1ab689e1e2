from __future__ import annotations

from autoclip_core.nlp.keywords import extract_keywords
from tests.core.nlp.articles import EN_ARTICLE, EN_TITLE, KO_ARTICLE, KO_TITLE

PARTICLES = ("은", "는", "이", "가", "을", "를", "의", "에", "도", "로", "과", "와")


def test_korean_keywords_are_nouns_without_particles() -> None:
    keywords = extract_keywords(f"{KO_TITLE}\n\n{KO_ARTICLE}", "ko")
    assert len(keywords) == 8
    assert {"요금", "서울시", "지하철", "인상", "적자"} <= set(keywords[:6])
    assert "서울교통공사" in keywords  # proper-noun compound kept whole
    assert not any(k.endswith(PARTICLES) for k in keywords)
    assert all(k in KO_ARTICLE or k in KO_TITLE for k in keywords)
    assert "화요일" not in keywords  # generic news nouns are dropped
    assert "지난해" not in keywords


def test_korean_latin_words_count() -> None:
    text = "AI 반도체 수요가 급증했다. 업계는 AI 서버 투자를 늘리고 있다. AI 경쟁이 치열하다."
    assert extract_keywords(text, "ko", k=3)[0] == "AI"


def test_english_keywords_prefer_repeated_phrases_and_drop_stopwords() -> None:
    keywords = extract_keywords(f"{EN_TITLE}\n\n{EN_ARTICLE}", "en")
    assert keywords[0] == "subway fares"
    assert "Seoul Metro" in keywords
    assert not {"said", "the", "last", "year", "Tuesday"} & set(keywords)
    # No keyword repeats a word of a better one ("fares" after "subway fares").
    words = [w.lower().rstrip("s") for k in keywords for w in k.split()]
    assert len(words) == len(set(words))


def test_keywords_are_deterministic_and_limited() -> None:
    first = extract_keywords(EN_ARTICLE, "en", k=5)
    assert len(first) == 5
    assert all(extract_keywords(EN_ARTICLE, "en", k=5) == first for _ in range(5))


def test_empty_text_has_no_keywords() -> None:
    assert extract_keywords("", "en") == []
    assert extract_keywords("", "ko") == []
