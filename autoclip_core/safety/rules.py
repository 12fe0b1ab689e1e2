"""Rule-based safety check of article text: blocked terms, personal data, profanity.

Personal data: e-mail addresses; phone numbers (Korean mobile and landline, US, and
international "+" numbers); Korean resident registration numbers (주민등록번호). The
phone and RRN patterns demand a phone-like shape (a Korean mobile prefix, separators
in 3-3-4 / 2-4-4 groups, or a leading "+") so years, prices, dates and counts in news
copy do not match. Excerpts show the surrounding text with personal data masked.

Profanity: word lists in ``lists/`` (see their headers). English entries match whole
words only, so "Scunthorpe" and "assessment" pass; Korean entries match inside words,
since particles attach to them, but never across a space.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Literal

from autoclip_core.schemas import Language, SafetyFinding, SafetyVerdict

EXCERPT_CONTEXT = 30  # characters shown either side of a match

# ASCII-only edges: Korean particles attach directly to numbers ("010-1234-5678로").
_START = r"(?<![0-9A-Za-z_+\-])"
_END = r"(?![0-9A-Za-z_\-])(?!\.\d)"

EMAIL = re.compile(
    r"(?<![0-9A-Za-z._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
    r"(?![0-9A-Za-z])"
)
RRN = re.compile(_START + r"(\d{2})(\d{2})(\d{2})(-?)([1-4])\d{6}" + _END)
_KR_AREA = r"(?:2|[3-6][1-5]|70)"
PHONE_PATTERNS = (
    # Korean mobile: 010-1234-5678, 010 1234 5678, 01012345678
    re.compile(_START + r"01[016789][-. ]?\d{3,4}[-. ]?\d{4}" + _END),
    # Korean numbers from abroad: +82 10-1234-5678, +82 (0)2-123-4567
    re.compile(
        r"\+82[-. ]?(?:\(0\)\s?)?0?(?:1[016789]|" + _KR_AREA + r")[-. ]?\d{3,4}[-. ]?\d{4}" + _END
    ),
    # Korean landline, separators required: 02-123-4567, 031-1234-5678, (02) 123-4567
    re.compile(_START + r"(?:\(0" + _KR_AREA + r"\)\s?|0" + _KR_AREA + r"-)\d{3,4}-\d{4}" + _END),
    # US: (555) 123-4567, 555-123-4567, 555.123.4567, +1 555 123 4567
    re.compile(
        _START + r"(?:\+1[-. ]?)?(?:\([2-9]\d{2}\)\s?|[2-9]\d{2}[-. ])[2-9]\d{2}[-. ]\d{4}" + _END
    ),
    # Any other international number: +44 20 7946 0958, +49 (30) 1234567
    re.compile(r"(?<![0-9A-Za-z_])\+[1-9]\d{0,3}(?:[-. ]?\(?\d{1,5}\)?){2,5}" + _END),
)
PHONE_DIGITS = range(8, 16)  # E.164 allows at most 15 digits
RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)

HANGUL_OR_SPACE = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]|\s+")
PROFANITY_LANGUAGES: dict[Language, tuple[Language, ...]] = {"en": ("en",), "ko": ("ko", "en")}


Rule = Literal["blocked_term", "pii_email", "pii_phone", "pii_rrn", "profanity"]


@dataclass(frozen=True)
class _Match:
    rule: Rule
    start: int
    end: int
    detail: str
    key: str  # what makes two matches "the same" finding: the term, or the digits


@dataclass(frozen=True)
class _WordList:
    terms: re.Pattern[str]
    allowed: re.Pattern[str] | None


def check_text(text: str, *, blocked_terms: list[str], language: Language) -> SafetyVerdict:
    """Findings for ``text``, one per distinct term or value; it passes when there are none.

    ``language`` picks the profanity lists: English text is checked against the English
    list, Korean text against both (Korean copy quotes English freely).
    """
    personal = _personal_data(text)
    matches = [
        *_blocked_terms(text, blocked_terms),
        *personal,
        *(m for lang in PROFANITY_LANGUAGES[language] for m in _profanity(text, lang)),
    ]
    masked = _mask(text, personal)
    findings = [
        SafetyFinding(rule=m.rule, detail=m.detail, excerpt=_excerpt(masked, m.start, m.end))
        for m in _first_of_each(matches)
    ]
    return SafetyVerdict(passed=not findings, findings=findings)


def _first_of_each(matches: list[_Match]) -> list[_Match]:
    """The first match of each (rule, key), in text order, with a count when repeated."""
    counts = Counter((m.rule, m.key) for m in matches)
    first: dict[tuple[str, str], _Match] = {}
    for match in sorted(matches, key=lambda m: (m.start, m.rule)):
        first.setdefault((match.rule, match.key), match)
    return [
        replace(m, detail=f"{m.detail} ({counts[key]}\u00d7)") if counts[key] > 1 else m
        for key, m in first.items()
    ]


def _excerpt(text: str, start: int, end: int) -> str:
    left, right = max(0, start - EXCERPT_CONTEXT), min(len(text), end + EXCERPT_CONTEXT)
    snippet = " ".join(text[left:right].split())
    return ("\u2026" if left else "") + snippet + ("\u2026" if right < len(text) else "")


# --- blocked terms ----------------------------------------------------------------------


def _blocked_terms(text: str, terms: list[str]) -> Iterator[_Match]:
    """Case-insensitive; a term starting/ending with a Latin letter or digit must start/end
    a word there ("coin" does not match "bitcoin"), Korean terms match inside words."""
    unique: dict[str, str] = {}
    for raw in terms:
        if term := " ".join(raw.split()):
            unique.setdefault(term.lower(), term)
    for term in unique.values():
        for match in _term_pattern(term).finditer(text):
            yield _Match("blocked_term", match.start(), match.end(), f'"{term}"', term.lower())


def _term_pattern(term: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(word) for word in term.split())
    start = r"(?<![0-9A-Za-z])" if _is_latin_alnum(term[0]) else ""
    end = r"(?![0-9A-Za-z])" if _is_latin_alnum(term[-1]) else ""
    return re.compile(start + body + end, re.IGNORECASE)


def _is_latin_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


# --- personal data ----------------------------------------------------------------------


def _personal_data(text: str) -> list[_Match]:
    """Every occurrence, e-mail before RRN before phone where they overlap."""
    found: list[_Match] = []

    def add(rule: Rule, match: re.Match[str], detail: str, key: str) -> None:
        if all(match.end() <= f.start or f.end <= match.start() for f in found):
            found.append(_Match(rule, match.start(), match.end(), detail, key))

    for match in EMAIL.finditer(text):
        add("pii_email", match, "e-mail address", match.group().lower())
    for match in RRN.finditer(text):
        if _plausible_rrn(match):
            add("pii_rrn", match, "resident registration number", _digits(match.group()))
    for pattern in PHONE_PATTERNS:
        for match in pattern.finditer(text):
            digits = _digits(match.group())
            if len(digits) in PHONE_DIGITS:
                add("pii_phone", match, "phone number", digits)
    return found


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _plausible_rrn(match: re.Match[str]) -> bool:
    """A real past birth date (back part 1/2: 1900s, 3/4: 2000s); without the hyphen, 13
    bare digits must also carry a valid check digit. (Numbers issued since October 2020
    have no check digit, so hyphenated ones are not checked.)"""
    year, month, day, hyphen, sex = match.groups()
    century = 1900 if sex in "12" else 2000
    try:
        born = date(century + int(year), int(month), int(day))
    except ValueError:
        return False
    if born > date.today():
        return False
    return bool(hyphen) or _rrn_check_digit_ok(_digits(match.group()))


def _rrn_check_digit_ok(digits: str) -> bool:
    total = sum(int(d) * w for d, w in zip(digits[:12], RRN_WEIGHTS, strict=True))
    return (11 - total % 11) % 10 == int(digits[12])


def _mask(text: str, personal: list[_Match]) -> str:
    """``text`` with personal data starred out, same length so offsets still hold."""
    chars = list(text)
    for match in personal:
        chars[match.start : match.end] = MASKS[match.rule](text[match.start : match.end])
    return "".join(chars)


def _mask_email(value: str) -> str:
    at = value.index("@")
    return value[0] + "*" * (at - 1) + value[at:]


def _mask_phone(value: str) -> str:
    keep_from = [i for i, char in enumerate(value) if char.isdigit()][-2]
    return re.sub(r"\d", "*", value[:keep_from]) + value[keep_from:]


def _mask_rrn(value: str) -> str:
    return re.sub(r"\d", "*", value)


MASKS: dict[Rule, Callable[[str], str]] = {
    "pii_email": _mask_email,
    "pii_phone": _mask_phone,
    "pii_rrn": _mask_rrn,
}


# --- profanity --------------------------------------------------------------------------


def _profanity(text: str, language: Language) -> Iterator[_Match]:
    words = _profanity_list(language)
    view, origin = _korean_view(text) if language == "ko" else (text, list(range(len(text))))
    allowed = [m.span() for m in words.allowed.finditer(view)] if words.allowed else []
    for match in words.terms.finditer(view):
        if any(a <= match.start() and match.end() <= b for a, b in allowed):
            continue
        term = match.group().lower()
        start, end = origin[match.start()], origin[match.end() - 1] + 1
        yield _Match("profanity", start, end, f'"{term}"', term)


def _korean_view(text: str) -> tuple[str, list[int]]:
    """Only the Hangul of ``text``, words separated by single spaces, and for each of its
    characters the offset in ``text`` it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for match in HANGUL_OR_SPACE.finditer(text):
        chars.append(" " if match.group().isspace() else match.group())
        origin.append(match.start())
    return "".join(chars), origin


@cache
def _profanity_list(language: Language) -> _WordList:
    path = files("autoclip_core.safety").joinpath("lists", f"profanity_{language}.txt")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    entries = [line for line in lines if line and not line.startswith("#")]
    terms = [e for e in entries if not e.startswith("!")]
    allowed = [e[1:] for e in entries if e.startswith("!")]
    return _WordList(
        terms=_alternation(terms, language),
        allowed=_alternation(allowed, language) if allowed else None,
    )


def _alternation(entries: list[str], language: Language) -> re.Pattern[str]:
    """English: whole words, "term*" also matching longer words; Korean: anywhere."""
    alternatives = []
    for entry in sorted(entries, key=len, reverse=True):
        stem = entry.removesuffix("*")
        body = r"\s+".join(re.escape(word) for word in stem.split())
        alternatives.append(body + ("[A-Za-z]*" if entry.endswith("*") else ""))
    pattern = "|".join(alternatives)
    if language == "en":
        pattern = rf"(?<![A-Za-z])(?:{pattern})(?![A-Za-z])"
    return re.compile(pattern, re.IGNORECASE)
