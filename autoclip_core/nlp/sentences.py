"""Split a text into sentences: Kiwi for Korean, an abbreviation-aware regex for English.

Blank lines always end a sentence (headings, captions and list items often have no full
stop); single line breaks inside a paragraph are treated as spaces.
"""

from __future__ import annotations

import re

from autoclip_core.nlp.korean import kiwi
from autoclip_core.schemas import Language

PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

# Sentence-final punctuation (plus closing quotes/brackets), whitespace, then something
# that can start a sentence. Decimals ("3.5") never match: there is no space after the dot.
OPENERS = "\"'\u201c\u2018(["  # straight and typographic opening quotes, brackets
CLOSERS = "\"'\u201d\u2019)]"
CANDIDATE_BOUNDARY = re.compile(
    rf"([.!?\u2026]+[{re.escape(CLOSERS)}]*)\s+(?=[{re.escape(OPENERS)}]?[A-Z0-9])"
)

# Abbreviations that precede a name or number: never the end of a sentence.
TITLES = frozenset(
    "mr mrs ms dr prof gen gov sen rep lt col capt sgt rev hon pres supt st mt ft".split()
)
# Abbreviations that can also end a sentence ("... in the U.S. The plan ...").
AMBIGUOUS = frozenset(
    "inc corp ltd co jr sr etc vs no nos approx est dept univ "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
DOTTED_ACRONYM = re.compile(r"^(?:[a-z]\.)*[a-z]$")  # u.s, e.g, a.m, and single initials
# After an ambiguous abbreviation, these words signal that a new sentence has begun.
SENTENCE_STARTERS = frozenset(
    "the a an it its he she they we i you this that these those there his her their our "
    "but and so yet in on at for as after before when while if however meanwhile also "
    "officials some many most both such".split()
)


def split_sentences(text: str, language: Language) -> list[str]:
    """The sentences of ``text`` in order, stripped, without empty ones."""
    sentences: list[str] = []
    for paragraph in PARAGRAPH_BREAK.split(text):
        flat = " ".join(paragraph.split())
        if not flat:
            continue
        if language == "ko":
            sentences.extend(s.text.strip() for s in kiwi().split_into_sents(flat))
        else:
            sentences.extend(_split_english(flat))
    return [s for s in sentences if s]


def _split_english(paragraph: str) -> list[str]:
    sentences = []
    start = 0
    for match in CANDIDATE_BOUNDARY.finditer(paragraph):
        if _is_boundary(paragraph[start : match.end(1)], match.group(1), paragraph[match.end() :]):
            sentences.append(paragraph[start : match.end(1)].strip())
            start = match.end()
    sentences.append(paragraph[start:].strip())
    return sentences


def _is_boundary(before: str, punctuation: str, after: str) -> bool:
    if punctuation != ".":
        return True
    last_word = before.split()[-1].lstrip(OPENERS).lower().rstrip(".")
    if last_word in TITLES:
        return False
    if last_word in AMBIGUOUS or DOTTED_ACRONYM.match(last_word):
        next_word = after.split(maxsplit=1)[0].lstrip(OPENERS).lower()
        return next_word in SENTENCE_STARTERS
    return True
