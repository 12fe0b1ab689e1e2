"""English words and stopwords, shared by keyword extraction and summarisation."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*[A-Za-z]|[A-Za-z]")  # \u2019: typographic apostrophe


@cache
def stopwords() -> frozenset[str]:
    text = files("autoclip_core.nlp").joinpath("stopwords_en.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def words(text: str) -> list[str]:
    """Words as written (possessive 's dropped), in order."""
    return [re.sub(r"['\u2019]s$", "", match.group()) for match in WORD.finditer(text)]


def content_terms(text: str) -> list[str]:
    """Lower-cased, singular-ish words that are not stopwords, for comparing sentences."""
    stop = stopwords()
    terms = []
    for word in words(text):
        lower = word.lower()
        if lower not in stop and len(lower) > 1:
            terms.append(singular(lower))
    return terms


def singular(word: str) -> str:
    """A crude plural strip ("fares" -> "fare", "cities" -> "city") so variants overlap."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
