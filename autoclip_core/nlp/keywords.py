"""Keywords of a text: frequent content words, weighted towards the start of the text.

Korean: nouns (NNG/NNP, at least two characters) and Latin-script words such as "AI"
from Kiwi; nouns written together with a proper noun ("서울"+"교통"+"공사") count as one
name, "서울교통공사". English: stopword-filtered words and two-word phrases. Every occurrence
counts 1.0 at the start of the text, falling linearly to 0.5 at the end, so words of
the headline and lead outrank equally frequent words further down. Ties keep the order
of first appearance, so the result is deterministic.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from autoclip_core.nlp import english
from autoclip_core.nlp.korean import morphemes
from autoclip_core.schemas import Language

if TYPE_CHECKING:
    from kiwipiepy import Token

KOREAN_NOUN_TAGS = frozenset({"NNG", "NNP"})
KOREAN_KEYWORD_TAGS = KOREAN_NOUN_TAGS | {"SL"}
# Nouns that Kiwi tags correctly but that say nothing about the story.
KOREAN_GENERIC_NOUNS = frozenset(
    "기자 뉴스 오늘 어제 내일 이번 지난 관련 경우 정도 이후 이전 당시 가운데 사진 제공 "
    "무단 전재 재배포 금지 저작권 특파원 통신 이날 "
    "월요일 화요일 수요일 목요일 금요일 토요일 일요일".split()
)
MIN_BIGRAM_COUNT = 2


@dataclass
class _Term:
    score: float = 0.0
    first: int = 0
    spellings: Counter[str] = field(default_factory=Counter)

    def add(self, spelling: str, weight: float) -> None:
        self.score += weight
        self.spellings[spelling] += 1

    @property
    def spelling(self) -> str:
        # Most frequent surface form; Counter keeps first-seen order on ties.
        return self.spellings.most_common(1)[0][0]


def extract_keywords(text: str, language: Language, k: int = 8) -> list[str]:
    """Up to ``k`` keywords, best first; a term sharing a word with a better one is skipped."""
    terms = _korean_terms(text) if language == "ko" else _english_terms(text)
    ranked = sorted(terms.items(), key=lambda item: (-item[1].score, item[1].first))
    keywords: list[str] = []
    taken: set[str] = set()
    for key, term in ranked:
        if len(keywords) == k:
            break
        term_words = set(key.split())
        if term_words & taken:
            continue
        keywords.append(term.spelling)
        taken |= term_words
    return keywords


def _position_weight(offset: int, length: int) -> float:
    return 1.0 - 0.5 * offset / max(length, 1)


def _korean_terms(text: str) -> dict[str, _Term]:
    terms: dict[str, _Term] = {}
    for start, form in _korean_candidates(morphemes([text])[0], text):
        if len(form) < 2 or form in KOREAN_GENERIC_NOUNS:
            continue
        term = terms.setdefault(form.lower(), _Term(first=start))
        term.add(form, _position_weight(start, len(text)))
    return terms


def _korean_candidates(tokens: list[Token], text: str) -> list[tuple[int, str]]:
    """(offset, form) of keyword morphemes, with proper-noun compounds joined."""
    runs: list[list[Token]] = []  # nouns written together, or a single Latin word
    for token in tokens:
        if token.tag not in KOREAN_KEYWORD_TAGS:
            continue
        previous = runs[-1][-1] if runs else None
        if (
            previous is not None
            and token.tag in KOREAN_NOUN_TAGS
            and previous.tag in KOREAN_NOUN_TAGS
            and previous.end == token.start
        ):
            runs[-1].append(token)
        else:
            runs.append([token])
    candidates: list[tuple[int, str]] = []
    for run in runs:
        if len(run) > 1 and any(token.tag == "NNP" for token in run):
            candidates.append((run[0].start, text[run[0].start : run[-1].end]))
        else:
            candidates.extend((token.start, token.form) for token in run)
    return candidates


def _english_terms(text: str) -> dict[str, _Term]:
    """Unigrams, and two-word phrases that occur at least twice. A phrase takes the weight
    of both its words, which then no longer count on their own."""
    stop = english.stopwords()
    tokens = [
        (match.start(), word, english.singular(word.lower()))
        for match in english.WORD.finditer(text)
        if (word := english.words(match.group())[0]).lower() not in stop and len(word) > 2
    ]
    pairs = [
        i
        for i in range(len(tokens) - 1)
        if text[tokens[i][0] + len(tokens[i][1]) : tokens[i + 1][0]].isspace()
    ]
    pair_counts = Counter(f"{tokens[i][2]} {tokens[i + 1][2]}" for i in pairs)
    terms: dict[str, _Term] = {}
    in_phrase: set[int] = set()
    # Most frequent phrases first: in "raises subway fares", "subway fares" wins.
    for i in sorted(pairs, key=lambda i: -pair_counts[f"{tokens[i][2]} {tokens[i + 1][2]}"]):
        key = f"{tokens[i][2]} {tokens[i + 1][2]}"
        if pair_counts[key] < MIN_BIGRAM_COUNT or {i, i + 1} & in_phrase:
            continue
        (start, first, _), (second_start, second, _) = tokens[i], tokens[i + 1]
        weight = _position_weight(start, len(text)) + _position_weight(second_start, len(text))
        terms.setdefault(key, _Term(first=start)).add(f"{first} {second}", weight)
        in_phrase |= {i, i + 1}
    for i, (start, word, key) in enumerate(tokens):
        if i not in in_phrase:
            terms.setdefault(key, _Term(first=start)).add(word, _position_weight(start, len(text)))
    return terms
