"""A short topic label from keywords: the two best, joined (no inference beyond that)."""

from __future__ import annotations

from autoclip_core.schemas import Language

FALLBACK_LABEL: dict[Language, str] = {"en": "General", "ko": "일반"}
SEPARATOR = " · "


def headline_case(text: str) -> str:
    """Capitalise each word's first letter, leaving the rest ("NASA", "iPhone") alone."""
    return " ".join(word[:1].upper() + word[1:] for word in text.split())


def topic_label(keywords: list[str], language: Language) -> str:
    """E.g. "Subway Fares · Seoul" or "지하철 · 요금"; a generic label without keywords."""
    if not keywords:
        return FALLBACK_LABEL[language]
    return SEPARATOR.join(headline_case(keyword) for keyword in keywords[:2])
