"""Topic selection judges an item by how long it takes to speak, in its own language."""

from collections.abc import Iterator

import dagster as dg
import pytest

from autoclip_assets.analysis import MIN_NARRATION_S, topic_selection
from autoclip_core.nlp.speech import speaking_seconds
from autoclip_core.schemas import SourceItem, TopicSelection
from resources.app_database import AppDatabase
from resources.llm.local import LocalLLM

# A 77-어절 (215-syllable) news item: about 45 s of speech.
KOREAN_77_EOJEOL = (
    "서울시가 다음 달부터 시내버스 요금을 올린다. "
    "기본요금은 성인 기준 천오백 원이 된다. "
    "시는 연료비와 임금이 크게 올라 적자가 쌓였다고 했다. "
    "지난해 버스 회사들의 손실은 역대 가장 컸다. "
    "시민 단체는 서민 부담이 는다며 반대했다. "
    "시는 청소년과 노인 할인은 그대로 둔다고 밝혔다. "
    "또한 환승 할인도 지금처럼 유지된다. "
    "새 요금은 교통카드와 현금에 함께 적용된다. "
    "시는 늘어난 돈으로 낡은 차를 바꾸고 정류장을 고친다. "
    "학자들은 요금보다 서비스 개선이 더 중요하다고 말했다. "
    "시의회는 다음 주에 이 안을 의결한다. 요금 인상은 팔 년 만이다."
)
ENGLISH_SENTENCE = "The city council met on Monday and agreed on a new plan for the buses."


@pytest.fixture
def app_db(sqlite_app_url: str) -> Iterator[AppDatabase]:
    database = AppDatabase(url=sqlite_app_url)
    database.projects.ensure("demo")
    yield database
    database.database.dispose()


def select(app_db: AppDatabase, item_id: str, title: str, text: str) -> TopicSelection:
    item = SourceItem(
        id=item_id, project="demo", source="test", url="https://e.com/a", title=title, text=text
    )
    app_db.content.register_item(item)
    return topic_selection(
        dg.build_asset_context(),
        source_item=item,
        content_analysis=LocalLLM().analyze(item),
        app_db=app_db,
    )


def test_a_korean_item_of_45_seconds_speech_is_selected(app_db: AppDatabase) -> None:
    assert len(KOREAN_77_EOJEOL.split()) == 77
    assert sum("\uac00" <= ch <= "\ud7a3" for ch in KOREAN_77_EOJEOL) == 215
    assert speaking_seconds(KOREAN_77_EOJEOL, "ko") > MIN_NARRATION_S

    selection = select(app_db, "demo-ko77", "서울 버스 요금 인상", KOREAN_77_EOJEOL)
    assert selection.selected
    assert selection.reason.endswith("about 45 s of narration")


def test_an_english_item_too_short_to_speak_for_40_seconds_is_refused(
    app_db: AppDatabase,
) -> None:
    text = " ".join([ENGLISH_SENTENCE] * 6)  # 90 words: about 33 s
    with pytest.raises(dg.Failure) as refused:
        select(app_db, "demo-en90", "Buses", text)
    assert refused.value.description == (
        "not selected: about 33 s of narration (90 words) and 6 summary sentences "
        "(needs 40 s and 3 sentences)"
    )


def test_a_korean_item_too_short_to_speak_is_refused_in_characters(
    app_db: AppDatabase,
) -> None:
    text = " ".join(KOREAN_77_EOJEOL.split(". ")[:5]) + "."
    refusal = r"not selected: about \d+ s of narration \(\d+ characters\)"
    with pytest.raises(dg.Failure, match=refusal):
        select(app_db, "demo-ko-short", "버스 요금", text)
