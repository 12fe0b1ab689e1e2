from __future__ import annotations

from autoclip_core.nlp.sentences import split_sentences
from tests.core.nlp.articles import EN_ARTICLE, KO_ARTICLE


def test_korean_article_splits_into_its_sentences() -> None:
    sentences = split_sentences(KO_ARTICLE, "ko")
    assert len(sentences) == 12
    assert sentences[0] == "서울시가 8년 만에 지하철 기본요금을 인상한다."
    assert sentences[4] == "서울교통공사는 지난해 1조 2천억 원의 적자를 기록했다."
    assert all(s.endswith(".") for s in sentences)


def test_korean_sentences_without_final_punctuation() -> None:
    text = "시민들의 반응은 엇갈렸다! 왜 그럴까요? 전문가들은 3.5% 인상이 적절하다고 말했다"
    assert split_sentences(text, "ko") == [
        "시민들의 반응은 엇갈렸다!",
        "왜 그럴까요?",
        "전문가들은 3.5% 인상이 적절하다고 말했다",
    ]


def test_english_article_splits_into_its_sentences() -> None:
    sentences = split_sentences(EN_ARTICLE, "en")
    assert len(sentences) == 13
    assert (
        sentences[3]
        == "Seoul Metro lost 1.2 trillion won last year, its largest deficit since 2015."
    )
    assert sentences[4].startswith("Dr. Lee Ji-won, a transport economist")
    assert sentences[5] == '"The fare has not kept up with costs," she said.'


def test_english_abbreviations_and_decimals_do_not_end_sentences() -> None:
    text = (
        "Dr. Kim said the U.S. economy grew 2.5% in the third quarter. Mr. Smith of Acme Inc. "
        "disagreed! Was it enough? J. K. Rowling spoke at 9 a.m. Tuesday. Prices fell 0.3 points."
    )
    assert split_sentences(text, "en") == [
        "Dr. Kim said the U.S. economy grew 2.5% in the third quarter.",
        "Mr. Smith of Acme Inc. disagreed!",
        "Was it enough?",
        "J. K. Rowling spoke at 9 a.m. Tuesday.",
        "Prices fell 0.3 points.",
    ]


def test_abbreviation_at_the_end_of_a_sentence() -> None:
    text = "The company moved to the U.S. The move took two years."
    assert split_sentences(text, "en") == [
        "The company moved to the U.S.",
        "The move took two years.",
    ]


def test_blank_lines_end_sentences_and_line_breaks_are_spaces() -> None:
    text = "Fares rise in October\n\nThe city said\nthe change was overdue.\n\n\n"
    assert split_sentences(text, "en") == [
        "Fares rise in October",
        "The city said the change was overdue.",
    ]
    assert split_sentences("   \n\n ", "en") == []
