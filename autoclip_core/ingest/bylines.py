"""Reporter bylines, datelines and copyright lines around an article's body.

Korean news ends with the reporter's name and e-mail ("홍길동 기자 hong@yna.co.kr") and a
"무단전재 및 재배포 금지" notice, and often starts with a dateline ("(서울=연합뉴스) 홍길동
기자 = "); English copy ends with "By Jane Doe (jane@example.com)" or "© 2026 …". None of
it is the story, and the e-mail made the personal-data pre-check block the whole item.

Only the edges are touched: at most ``MAX_TRAILING`` short paragraphs at the end, the end
of the last paragraph and the start of the first. An e-mail inside the story stays, and
the safety check still sees it.
"""

from __future__ import annotations

import re

from autoclip_core.safety.rules import EMAIL

MAX_TRAILING = 3
SHORT_PARAGRAPH = 120  # characters: longer paragraphs are story, not credits

_ROLE = r"(?:기자|특파원|객원기자|인턴기자|reporter|correspondent|staff writer)"
_NAME = r"(?:[가-힣]{2,4}|[A-Z][a-z]+(?: [A-Z][a-z]+){0,2})"
_EMAIL = EMAIL.pattern
_TRAILING_BYLINE = re.compile(
    rf"[\s/·|=-]*(?:{_NAME}\s*{_ROLE}|By\s+{_NAME})\s*[(<\[]?\s*{_EMAIL}\s*[)>\]]?\s*$",
    re.IGNORECASE,
)
_EMAIL_ONLY = re.compile(rf"^\s*[(<\[]?\s*{_EMAIL}\s*[)>\]]?\s*$")
_COPYRIGHT = re.compile(
    r"(?:copyright|ⓒ|©|\(c\)|무단\s?전재|재배포\s?금지|all rights reserved|저작권자)", re.IGNORECASE
)
_BYLINE_ONLY = re.compile(
    rf"^[\s/·|=-]*(?:{_NAME}\s*{_ROLE}|By\s+{_NAME}|{_ROLE}\s+{_NAME})\s*[(<\[]?\s*(?:{_EMAIL})?\s*[)>\]]?\s*$",
    re.IGNORECASE,
)
_DATELINE = re.compile(  # "(서울=연합뉴스) 홍길동 기자 = "
    r"^\([^()=\n]{1,20}=[^()\n]{1,20}\)\s*(?:[가-힣]{2,4}\s*(?:기자|특파원)\s*=\s*)?"
)


def strip_bylines(text: str) -> str:
    """``text`` (paragraphs separated by blank lines) without bylines and credits."""
    paragraphs = text.split("\n\n")
    for _ in range(MAX_TRAILING):
        if len(paragraphs) > 1 and _is_credit(paragraphs[-1]):
            paragraphs.pop()
    if paragraphs:
        paragraphs[-1] = _TRAILING_BYLINE.sub("", paragraphs[-1]).rstrip()
        paragraphs[0] = _DATELINE.sub("", paragraphs[0], count=1)
    return "\n\n".join(p for p in paragraphs if p)


def _is_credit(paragraph: str) -> bool:
    if len(paragraph) > SHORT_PARAGRAPH:
        return False
    if _COPYRIGHT.search(paragraph) or _BYLINE_ONLY.match(paragraph):
        return True
    return bool(_EMAIL_ONLY.match(paragraph))
