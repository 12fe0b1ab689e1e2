"""Wrap text to a pixel width, for Korean and English alike.

Breaks at spaces (Korean words, 어절, are space-separated too); a single word wider
than the line is split between syllables/characters. Widths are measured with the
real font, so nothing overflows.
"""

from __future__ import annotations

from PIL import ImageFont

Font = ImageFont.FreeTypeFont


def text_width(text: str, font: Font) -> float:
    return font.getlength(text)


def _split_long_word(word: str, font: Font, max_width: float) -> list[str]:
    pieces: list[str] = []
    current = ""
    for char in word:
        if current and text_width(current + char, font) > max_width:
            pieces.append(current)
            current = char
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def wrap_text(text: str, font: Font, max_width: float) -> list[str]:
    """Lines of ``text`` that each fit in ``max_width`` pixels with ``font``."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if text_width(candidate, font) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            if text_width(word, font) <= max_width:
                current = word
            else:
                *full, current = _split_long_word(word, font, max_width)
                lines.extend(full)
        lines.append(current)
    return [line for line in lines if line] or [""]
