from __future__ import annotations

from autoclip_core.nlp.topic import headline_case, topic_label


def test_label_is_the_two_best_keywords() -> None:
    assert (
        topic_label(["subway fares", "Seoul Metro", "deficit"], "en")
        == "Subway Fares · Seoul Metro"
    )
    assert topic_label(["요금", "서울시", "지하철"], "ko") == "요금 · 서울시"
    assert topic_label(["NASA"], "en") == "NASA"


def test_label_without_keywords() -> None:
    assert topic_label([], "en") == "General"
    assert topic_label([], "ko") == "일반"


def test_headline_case_keeps_inner_capitals() -> None:
    assert headline_case("iPhone sales in the U.S.") == "IPhone Sales In The U.S."
    assert headline_case("NASA  budget") == "NASA Budget"
