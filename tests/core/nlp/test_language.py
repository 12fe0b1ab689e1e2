from __future__ import annotations

import pytest

from autoclip_core.nlp.language import detect_language, detect_language_code, hangul_ratio
from tests.core.nlp.articles import EN_ARTICLE, KO_ARTICLE


def test_english_article_is_english() -> None:
    assert detect_language(EN_ARTICLE) == "en"
    assert detect_language_code(EN_ARTICLE) == "en"


def test_korean_article_is_korean() -> None:
    assert detect_language(KO_ARTICLE) == "ko"


def test_korean_with_english_words_and_numbers_is_korean() -> None:
    text = (
        "삼성전자는 3분기 영업이익이 9조 1,834억 원으로 집계됐다고 밝혔다. "
        "AI 반도체 HBM 수요가 늘었다."
    )
    assert detect_language(text) == "ko"


def test_other_languages_keep_their_code_but_map_to_english() -> None:
    german = "Die Stadt erhöht die Preise für die U-Bahn zum ersten Mal seit acht Jahren deutlich."
    assert detect_language_code(german) == "de"
    assert detect_language(german) == "en"


def test_text_without_letters_is_undetermined() -> None:
    assert detect_language_code("2024-10-15 12:30 ... 150") == "und"
    assert detect_language("") == "en"


def test_detection_is_deterministic() -> None:
    short = "Fare rise"
    assert len({detect_language_code(short) for _ in range(20)}) == 1


@pytest.mark.parametrize(
    ("text", "ratio"), [("한국어", 1.0), ("abc", 0.0), ("한국 ab", 0.5), ("123", 0.0)]
)
def test_hangul_ratio(text: str, ratio: float) -> None:
    assert hangul_ratio(text) == ratio
