"""The shared Kiwi morphological analyser (loading its model takes about a second)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiwipiepy import Kiwi, Token


@cache
def kiwi() -> Kiwi:
    # Imported here: a process that reads no Korean (a run worker publishing, or on English
    # items) never loads the library.
    from kiwipiepy import Kiwi

    return Kiwi()


def morphemes(texts: Sequence[str]) -> list[list[Token]]:
    """Morphemes of each text, one list per text."""
    return [list(tokens) for tokens in kiwi().tokenize(list(texts))]
