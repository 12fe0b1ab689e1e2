"""The shared Kiwi morphological analyser (loading its model takes about a second)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from kiwipiepy import Kiwi, Token


@cache
def kiwi() -> Kiwi:
    return Kiwi()


def morphemes(texts: Sequence[str]) -> list[list[Token]]:
    """Morphemes of each text, one list per text."""
    return [list(tokens) for tokens in kiwi().tokenize(list(texts))]
