from __future__ import annotations

import pytest

from autoclip_core.nlp.speech import spoken_units
from autoclip_core.schemas import Script, SourceItem, TopicSelection
from resources.errors import LLMError
from resources.llm.base import AnalysisQuestion, JudgeQuestion, LLMResource
from resources.llm.local import LocalLLM
from tests.core.nlp.articles import EN_ARTICLE, EN_TITLE, KO_ARTICLE, KO_TITLE

SELECTION = TopicSelection(selected=True, score=0.9, reason="test")
LONG_SENTENCE = (
    "The committee, which met for eleven hours on Thursday in a closed session at the city "
    "hall, agreed after a long and often heated debate that the new budget for public "
    "transport, schools, parks and housing would be published next month together with a "
    "detailed plan for how each district will spend its share of the money."
)


def _item(title: str, text: str) -> SourceItem:
    return SourceItem(
        id="item-1",
        project="demo",
        source="feeds/news.xml",
        url="https://news.example.com/2024/10/15/fares",
        title=title,
        text=text,
    )


def _write(llm: LocalLLM, item: SourceItem) -> Script:
    return llm.write_script(item, llm.analyze(item), SELECTION)


def _spoken(script: Script) -> int:
    return sum(spoken_units(part, script.language) for part in script.spoken_parts())


def test_is_an_llm_resource_with_config() -> None:
    llm = LocalLLM(summary_sentences=4, target_words_en=90)
    assert isinstance(llm, LLMResource)
    assert (llm.summary_sentences, llm.target_words_en, llm.target_chars_ko) == (4, 90, 260)


def test_english_analysis() -> None:
    analysis = LocalLLM().analyze(_item(EN_TITLE, EN_ARTICLE))
    assert analysis.language == "en"
    assert analysis.word_count == len(EN_ARTICLE.split())
    assert len(analysis.sentences) == 13
    assert len(analysis.summary) == 6
    assert [analysis.sentences.index(s) for s in analysis.summary] == sorted(
        analysis.sentences.index(s) for s in analysis.summary
    )
    assert analysis.keywords[0] == "subway fares"
    assert analysis.topic.startswith("Subway Fares · ")


def test_korean_analysis_counts_eojeol() -> None:
    analysis = LocalLLM().analyze(_item(KO_TITLE, KO_ARTICLE))
    assert analysis.language == "ko"
    assert analysis.word_count == len(KO_ARTICLE.split())
    assert len(analysis.sentences) == 12
    assert "요금" in analysis.keywords


def test_english_script() -> None:
    llm = LocalLLM()
    script = _write(llm, _item(EN_TITLE, EN_ARTICLE))
    assert Script.model_validate(script.model_dump()) == script
    assert script.language == "en"
    assert script.title == EN_TITLE
    assert script.hook == f"{EN_TITLE}. Here's what you need to know."
    assert 3 <= len(script.scenes) <= 6
    assert _spoken(script) <= llm.target_words_en
    assert _spoken(script) >= llm.target_words_en * 0.6  # ~30 s at least, not a stub
    assert script.call_to_action == "Follow for more stories like this."
    for scene in script.scenes:
        assert scene.narration in " ".join(llm.analyze(_item(EN_TITLE, EN_ARTICLE)).summary)
        assert 0 < len(scene.on_screen_text) <= 40
        assert scene.visual_query
    assert 3 <= len(script.hashtags) <= 8
    assert all(tag.startswith("#") and " " not in tag for tag in script.hashtags)
    assert script.hashtags[0] == "#SubwayFares"
    assert script.description.endswith("Source: https://news.example.com/2024/10/15/fares")


def test_korean_item_gives_a_korean_script() -> None:
    llm = LocalLLM()
    script = _write(llm, _item(KO_TITLE, KO_ARTICLE))
    assert script.language == "ko"
    assert script.hook == f"{KO_TITLE}. 지금 알아야 할 핵심을 정리했습니다."
    assert script.call_to_action == "더 많은 소식을 보려면 팔로우하세요."
    assert 3 <= len(script.scenes) <= 6
    assert _spoken(script) <= llm.target_chars_ko
    assert all(any("\uac00" <= c <= "\ud7a3" for c in s.narration) for s in script.scenes)
    assert all(0 < len(s.on_screen_text) <= 40 for s in script.scenes)
    assert "#서울교통공사" in script.hashtags
    assert "출처: https://news.example.com" in script.description


def test_script_is_deterministic() -> None:
    item = _item(EN_TITLE, EN_ARTICLE)
    assert _write(LocalLLM(), item) == _write(LocalLLM(), item)


@pytest.mark.parametrize("target", [40, 60, 150])
def test_english_budget_is_respected(target: int) -> None:
    script = _write(LocalLLM(target_words_en=target), _item(EN_TITLE, EN_ARTICLE))
    assert _spoken(script) <= target
    assert 3 <= len(script.scenes) <= 6


@pytest.mark.parametrize("target", [120, 400])
def test_korean_budget_is_respected(target: int) -> None:
    script = _write(LocalLLM(target_chars_ko=target), _item(KO_TITLE, KO_ARTICLE))
    assert _spoken(script) <= target


def test_long_sentences_are_cut_to_fit() -> None:
    text = " ".join([LONG_SENTENCE] * 2 + [LONG_SENTENCE.replace("Thursday", "Friday")])
    llm = LocalLLM()
    script = _write(llm, _item("City budget delayed", text))
    assert len(script.scenes) == 3
    assert _spoken(script) <= llm.target_words_en
    assert all(s.narration.endswith("\u2026") for s in script.scenes)


def test_a_two_sentence_article_still_gets_three_scenes() -> None:
    text = "The museum reopened on Monday after a two-year renovation. Tickets cost 15 dollars."
    script = _write(LocalLLM(), _item("Museum reopens", text))
    assert len(script.scenes) == 3
    assert " ".join(s.narration for s in script.scenes).split() == text.split()


def test_long_title_is_shortened_and_hook_uses_keywords() -> None:
    title = (
        "Seoul raises subway fares for the first time in eight years as the operator's "
        "deficit widens and commuter groups warn of the burden on low-income workers"
    )
    script = _write(LocalLLM(), _item(title, EN_ARTICLE))
    assert len(script.title) <= 100
    assert script.title.endswith("\u2026")
    assert script.hook.startswith("Here's what you need to know about subway fares and ")


def test_long_korean_title_hook_joins_keywords_with_the_right_particle() -> None:
    title = (
        "서울시, 8년 만에 지하철 요금 150원 인상\u2026서울교통공사 적자 1조 2천억 원 "
        "메우기에 시민단체 반발"
    )
    script = _write(LocalLLM(), _item(title, KO_ARTICLE))
    assert script.hook == "요금과 서울시, 지금 알아야 할 핵심을 정리했습니다."


def test_an_item_without_text_is_refused() -> None:
    llm = LocalLLM()
    item = _item("Breaking", "")
    with pytest.raises(LLMError, match="Too little text"):
        llm.write_script(item, llm.analyze(item), SELECTION)


@pytest.mark.parametrize(
    ("title", "hook"),
    [
        ("Will Seoul raise fares?", "Will Seoul raise fares? Here's what you need to know."),
        ("[속보] 지하철 요금 인상", "지하철 요금 인상. 지금 알아야 할 핵심을 정리했습니다."),
    ],
)
def test_hook_keeps_questions_and_drops_news_tags(title: str, hook: str) -> None:
    text = KO_ARTICLE if "요금" in title else EN_ARTICLE
    assert _write(LocalLLM(), _item(title, text)).hook == hook


def test_nothing_is_answered_ahead_offline() -> None:
    item = _item(EN_TITLE, EN_ARTICLE)
    prepared = LocalLLM().prepare([AnalysisQuestion(item), JudgeQuestion(item.id, "text", "en")])
    assert (prepared.answered, prepared.calls, prepared.batches) == ({}, {}, {})
    assert len(prepared.missing[item.id]) == 2
