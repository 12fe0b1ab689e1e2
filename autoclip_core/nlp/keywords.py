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

from kiwipiepy import Token

from autoclip_core.nlp import english
from autoclip_core.nlp.korean import morphemes
from autoclip_core.schemas import Language

KOREAN_NOUN_TAGS = frozenset({"NNG", "NNP"})
KOREAN_KEYWORD_TAGS = KOREAN_NOUN_TAGS | {"SL"}
# Nouns that Kiwi tags correctly but that say nothing about the story.
KOREAN_GENERIC_NOUNS = frozenset(
    "기자 뉴스 오늘 어제 내일 이번 지난 관련 경우 정도 이후 이전 당시 가운데 사진 제공 "
    "무단 전재 재배포 금지 저작권 특파원 통신 이날 "
    "월요일 화요일 수요일 목요일 금요일 토요일 일요일".split()
)
BIGRAM_BONUS = 1.5  # a repeated phrase ("subway fares") beats its single words
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
    def count(self) -> int:
        return sum(self.spellings.values())

    @property
    def spelling(self) -> str:
        # Most frequent surface form; Counter keeps first-seen order on ties.
        return self.spellings.most_common(1)[0][0]


def extract_keywords(text: str, language: Language, k: int = 8) -> list[str]:
    """Up to ``k`` keywords, best first; a term sharing a word with a better one is skipped."""
    terms = _korean_terms(text) if language == "ko" else _english_terms(text)
    ranked = sorted(terms.values(), key=lambda term: (-term.score, term.first))
    keywords: list[str] = []
    taken: set[str] = set()
    for term in ranked:
        if len(keywords) == k:
            break
        term_words = set(term.spelling.lower().split())
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
    candidates: list[tuple[int, str]] = []
    run: list[Token] = []
    for token in [*tokens, None]:
        if (
            token is not None
            and token.tag in KOREAN_NOUN_TAGS
            and run
            and token.start == run[-1].end
        ):
            run.append(token)
            continue
        if len(run) > 1 and any(t.tag == "NNP" for t in run):
            candidates.append((run[0].start, text[run[0].start : run[-1].end]))
        else:
            candidates.extend((t.start, t.form) for t in run)
        run = []
        if token is None:
            break
        if token.tag in KOREAN_NOUN_TAGS:
            run = [token]
        elif token.tag in KOREAN_KEYWORD_TAGS:
            candidates.append((token.start, token.form))
    return candidates


def _english_terms(text: str) -> dict[str, _Term]:
    stop = english.stopwords()
    words = [(m.start(), english.words(m.group())[0]) for m in english.WORD.finditer(text)]
    unigrams: dict[str, _Term] = {}
    bigrams: dict[str, _Term] = {}
    previous: tuple[int, str] | None = None
    for offset, word in words:
        lower = word.lower()
        if lower in stop or len(lower) < 3:
            previous = None
            continue
        weight = _position_weight(offset, len(text))
        key = english.singular(lower)
        unigrams.setdefault(key, _Term(first=offset)).add(word, weight)
        if previous is not None and _adjacent(text, previous, offset):
            prev_offset, prev_word = previous
            pair = f"{english.singular(prev_word.lower())} {key}"
            bigrams.setdefault(pair, _Term(first=prev_offset)).add(f"{prev_word} {word}", weight)
        previous = (offset, word)
    terms = dict(unigrams)
    for key, term in bigrams.items():
        if term.count >= MIN_BIGRAM_COUNT:
            term.score *= BIGRAM_BONUS
            terms[key] = term
    return terms


def _adjacent(text: str, previous: tuple[int, str], offset: int) -> bool:
    """True when only spaces separate the previous word from this one (no punctuation)."""
    prev_offset, prev_word = previous
    return text[prev_offset + len(prev_word) : offset].isspace()
