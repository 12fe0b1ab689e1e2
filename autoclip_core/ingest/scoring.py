"""The daily batch's score: which of the day's draft items are worth a video.

``score = 0.35·freshness + 0.25·topic + 0.15·length + 0.25·novelty``, each part in 0..1:

- **freshness** ``0.5 ** (age_hours / 12)``: age from the item's published time (its
  stored time when it has none; future dates count as now) — 1.0 now, 0.5 after 12 h.
- **topic** the project's ``topic_weights``: the highest weight among the terms found in
  the title or the start of the text (0 when none matches; 0.5 for every item when the
  project sets no weights).
- **length** ``min(1, words / 300)``: enough material for a short (a teaser scores low).
- **novelty** ``1 − max Jaccard`` between the item's keywords and those of the project's
  items published in the last 30 days *and* of the items already picked in this batch —
  so a story already told, or two takes on the same story, do not both make the cut.

Picking is greedy: the best item first, then novelty is recomputed for the rest.
Ties go to the earlier-stored item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from autoclip_core.nlp.keywords import extract_keywords
from autoclip_core.nlp.language import detect_language
from autoclip_core.schemas import SourceItem

WEIGHTS = {"freshness": 0.35, "topic": 0.25, "length": 0.15, "novelty": 0.25}
FRESHNESS_HALF_LIFE_HOURS = 12.0
IDEAL_WORDS = 300
NEUTRAL_TOPIC = 0.5
TOPIC_SCAN_CHARS = 3000
KEYWORDS = 12


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def freshness(published_at: datetime | None, stored_at: datetime, now: datetime) -> float:
    when = _aware(published_at or stored_at)
    age_hours = max(0.0, (_aware(now) - when).total_seconds() / 3600)
    return 0.5 ** (age_hours / FRESHNESS_HALF_LIFE_HOURS)


def topic_score(item: SourceItem, weights: dict[str, float]) -> float:
    if not weights:
        return NEUTRAL_TOPIC
    haystack = f"{item.title}\n{item.text[:TOPIC_SCAN_CHARS]}".casefold()
    return max((w for term, w in weights.items() if term.casefold() in haystack), default=0.0)


def length_score(text: str) -> float:
    return min(1.0, len(text.split()) / IDEAL_WORDS)


def key_terms(item: SourceItem) -> frozenset[str]:
    text = f"{item.title}\n{item.text[:6000]}"
    return frozenset(k.casefold() for k in extract_keywords(text, detect_language(text), KEYWORDS))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def novelty(terms: frozenset[str], told: list[frozenset[str]]) -> float:
    return 1.0 - max((jaccard(terms, other) for other in told), default=0.0)


@dataclass(frozen=True)
class ScoredItem:
    item_id: str
    title: str
    score: float
    parts: dict[str, float] = field(default_factory=dict)


def pick_top(
    candidates: list[tuple[SourceItem, datetime]],
    published: list[SourceItem],
    *,
    top_n: int,
    now: datetime,
    topic_weights: dict[str, float] | None = None,
) -> list[ScoredItem]:
    """The ``top_n`` best candidates (item, stored at), best first, greedy on novelty."""
    weights = topic_weights or {}
    told = [key_terms(item) for item in published]
    pool = []
    for order, (item, stored_at) in enumerate(candidates):
        fixed = {
            "freshness": freshness(item.published_at, stored_at, now),
            "topic": topic_score(item, weights),
            "length": length_score(item.text),
        }
        pool.append((order, item, key_terms(item), fixed))
    picked: list[ScoredItem] = []
    while pool and len(picked) < top_n:
        best: tuple[float, int, ScoredItem] | None = None
        for index, (order, item, terms, fixed) in enumerate(pool):
            parts = {**fixed, "novelty": novelty(terms, told)}
            score = sum(WEIGHTS[name] * value for name, value in parts.items())
            rounded = {name: round(value, 3) for name, value in parts.items()}
            scored = ScoredItem(item.id, item.title, round(score, 4), rounded)
            if best is None or (score, -order) > (best[0], -pool[best[1]][0]):
                best = (score, index, scored)
        assert best is not None
        _, index, scored = best
        told.append(pool[index][2])
        picked.append(scored)
        del pool[index]
    return picked
