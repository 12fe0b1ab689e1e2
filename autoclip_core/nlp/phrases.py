"""Split narration into caption phrases short enough to read at a glance.

Breaks come first after sentence ends (always), then after clause punctuation, then
between words (Korean: between 어절, which are space-separated). Whole clauses that fit
together share a phrase; a clause that is too long is cut into lines of similar length.
Only a single word longer than the limit is cut inside the word.
"""

from __future__ import annotations

import math

from autoclip_core.schemas import Language

DEFAULT_MAX_CHARS: dict[Language, int] = {"en": 32, "ko": 16}
CLOSERS = "\"')]\u201d\u2019"
SENTENCE_END = (".", "!", "?", "\u2026")
CLAUSE_END = (",", ";", ":", *SENTENCE_END)


def split_caption_phrases(text: str, language: Language, max_chars: int | None = None) -> list[str]:
    """Phrases of at most ``max_chars`` characters (default: 32 for English, 16 for Korean).

    Joining the phrases with spaces gives back the words of ``text`` (a word longer than
    the limit is split across phrases). No phrase is empty; a blank text gives none.
    """
    limit = DEFAULT_MAX_CHARS[language] if max_chars is None else max_chars
    if limit < 1:
        raise ValueError(f"max_chars must be at least 1, got {limit}")
    phrases: list[str] = []
    for sentence in _split_after(text.split(), SENTENCE_END):
        phrases.extend(_phrases_of_sentence(sentence, limit))
    return phrases


def _split_after(words: list[str], endings: tuple[str, ...]) -> list[list[str]]:
    """Groups of words, each ending with a word that ends in one of ``endings``."""
    groups: list[list[str]] = [[]]
    for word in words:
        groups[-1].append(word)
        if word.rstrip(CLOSERS).endswith(endings):
            groups.append([])
    return [group for group in groups if group]


def _phrases_of_sentence(words: list[str], limit: int) -> list[str]:
    phrases: list[str] = []
    pending = ""  # whole clauses that fit together so far
    for clause_words in _split_after(words, CLAUSE_END):
        clause = " ".join(clause_words)
        if pending and len(pending) + 1 + len(clause) <= limit:
            pending = f"{pending} {clause}"
            continue
        if pending:
            phrases.append(pending)
            pending = ""
        if len(clause) <= limit:
            pending = clause
        else:
            phrases.extend(_balanced_lines(clause_words, limit))
    if pending:
        phrases.append(pending)
    return phrases


def _balanced_lines(words: list[str], limit: int) -> list[str]:
    """As few lines as greedy filling needs, but with their lengths evened out."""
    pieces = [piece for word in words for piece in _cut_word(word, limit)]
    needed = len(_greedy_lines(pieces, limit))
    total = len(" ".join(pieces))
    # Narrowest width from the average line length up that still needs no more lines; at the
    # latest ``limit`` itself. The average counts the spaces that become line breaks, so it
    # can exceed ``limit`` when every line is full.
    widths = range(min(math.ceil(total / needed), limit), limit + 1)
    return next(lines for w in widths if len(lines := _greedy_lines(pieces, w)) <= needed)


def _cut_word(word: str, limit: int) -> list[str]:
    return [word[i : i + limit] for i in range(0, len(word), limit)]


def _greedy_lines(words: list[str], width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines
