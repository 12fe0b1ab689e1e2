from __future__ import annotations

import pytest

from autoclip_core.ingest.bylines import strip_bylines
from autoclip_core.ingest.normalize import normalize_item
from autoclip_core.safety.rules import check_text
from autoclip_core.schemas import SourceItem

KOREAN_WIRE = (
    "(서울=연합뉴스) 홍길동 기자 = 서울시는 26일 지하철 기본요금을 150원 올린다고 밝혔다.\n\n"
    "시민들은 출퇴근 부담이 커진다며 반발했다.\n\n"
    "홍길동 기자 hong@yna.co.kr\n\n"
    "<저작권자(c) 연합뉴스, 무단 전재-재배포, AI 학습 및 활용 금지>"
)


@pytest.mark.parametrize(
    ("text", "story"),
    [
        (
            KOREAN_WIRE,
            "서울시는 26일 지하철 기본요금을 150원 올린다고 밝혔다.\n\n"
            "시민들은 출퇴근 부담이 커진다며 반발했다.",
        ),
        (
            "서울시는 요금을 올린다고 밝혔다. 시민들은 반발했다. 김철수 특파원 kim@news.co.kr",
            "서울시는 요금을 올린다고 밝혔다. 시민들은 반발했다.",
        ),
        (
            "The city raised fares.\n\nRiders objected.\n\nBy John Smith (john.smith@example.com)"
            "\n\n© 2026 Example News. All rights reserved.",
            "The city raised fares.\n\nRiders objected.",
        ),
        ("The city raised fares.\n\nfares@example.com", "The city raised fares."),
    ],
    ids=["korean-wire", "korean-inline-byline", "english-byline-copyright", "email-paragraph"],
)
def test_bylines_datelines_and_copyright_lines_are_cut_from_the_edges(
    text: str, story: str
) -> None:
    assert strip_bylines(text) == story


@pytest.mark.parametrize(
    "text",
    [
        "문의는 help@example.com 으로 하면 된다고 시는 밝혔다.\n\n행사는 다음 달 열린다.",
        "Write to press@example.com for tickets.\n\nThe show starts at 8.",
        "The last line names a source, contact hong@example.com",
        "A single paragraph that is the whole story.",
    ],
)
def test_an_email_inside_the_story_stays(text: str) -> None:
    assert strip_bylines(text) == text


def test_a_korean_wire_story_passes_the_personal_data_check_once_normalised() -> None:
    raw = SourceItem(id="p-1", project="p", source="s", url="https://n.example.com/a",
                     title="지하철 요금 인상", text=KOREAN_WIRE)  # fmt: skip
    assert not check_text(raw.text, blocked_terms=[], language="ko").passed
    item = normalize_item(raw)
    assert check_text(item.text, blocked_terms=[], language="ko").passed
    assert "hong@" not in item.text
    assert "연합뉴스" not in item.text
