from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from autoclip_core.ingest.scoring import (
    WEIGHTS,
    freshness,
    length_score,
    pick_top,
    topic_score,
)
from autoclip_core.schemas import SourceItem
from tests.fakes.feeds import article_text

NOW = datetime(2024, 5, 2, 0, 0, tzinfo=UTC)


def item(n: int, text: str, title: str = "", hours_old: float = 1.0) -> SourceItem:
    return SourceItem(
        id=f"p-{n}", project="p", source="s", url=f"https://e.com/{n}", title=title or f"Item {n}",
        text=text, published_at=NOW - timedelta(hours=hours_old),
    )  # fmt: skip


def test_the_weights_add_up_to_one() -> None:
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


def test_freshness_halves_every_twelve_hours_and_future_dates_count_as_now() -> None:
    assert freshness(NOW, NOW, NOW) == 1.0
    assert freshness(NOW - timedelta(hours=12), NOW, NOW) == pytest.approx(0.5)
    assert freshness(None, NOW - timedelta(hours=24), NOW) == pytest.approx(0.25)
    assert freshness(NOW + timedelta(days=3), NOW, NOW) == 1.0
    assert freshness(datetime(2024, 5, 1, 12), NOW, NOW) == pytest.approx(0.5)  # naive = UTC


def test_topic_weight_is_the_best_matching_term() -> None:
    economy = item(1, "The economy grew while sports leagues paused.", title="Markets")
    weights = {"economy": 0.9, "sports": 0.3, "weather": 1.0}
    assert topic_score(economy, weights) == 0.9
    assert topic_score(item(2, "Nothing relevant."), weights) == 0.0
    assert topic_score(economy, {}) == 0.5
    assert topic_score(item(3, "서울 경제 뉴스"), {"경제": 0.8}) == 0.8


def test_length_saturates_at_three_hundred_words() -> None:
    assert length_score("word " * 150) == pytest.approx(0.5)
    assert length_score("word " * 3000) == 1.0


def test_picks_prefer_fresh_long_on_topic_and_new_stories() -> None:
    fresh_long = item(1, article_text(1, 400), hours_old=1)
    stale_long = item(2, article_text(2, 400), hours_old=30)
    fresh_short = item(3, "A short note about nothing much.", hours_old=1)
    told = item(4, article_text(4, 400), hours_old=1)  # a story already published
    candidates = [(i, NOW) for i in (stale_long, fresh_short, told, fresh_long)]
    picked = pick_top(candidates, [told], top_n=4, now=NOW)
    # fresh+long+new > fresh+new but short > fresh+long but already told > stale
    assert [p.item_id for p in picked] == ["p-1", "p-3", "p-4", "p-2"]
    by_id = {p.item_id: p for p in picked}
    assert by_id["p-4"].parts["novelty"] == 0.0
    assert by_id["p-2"].parts["freshness"] == pytest.approx(0.5**2.5, abs=0.001)
    for scored in picked:
        expected = sum(WEIGHTS[k] * v for k, v in scored.parts.items())
        assert scored.score == pytest.approx(expected, abs=0.002)


def test_two_takes_on_one_story_do_not_both_make_the_cut() -> None:
    story = article_text(10, 400)
    take_one = item(1, story, hours_old=1)
    take_two = item(2, "Analysis: " + story[: len(story) // 2], hours_old=1)
    other = item(3, article_text(11, 400), hours_old=5)
    picked = pick_top([(take_one, NOW), (take_two, NOW), (other, NOW)], [], top_n=2, now=NOW)
    assert [p.item_id for p in picked] == ["p-1", "p-3"]


def test_fewer_candidates_than_top_n() -> None:
    assert len(pick_top([(item(1, "x"), NOW)], [], top_n=5, now=NOW)) == 1
    assert pick_top([], [], top_n=5, now=NOW) == []
