from __future__ import annotations

import pytest

from autoclip_core.safety.rules import check_text
from autoclip_core.schemas import Language, SafetyVerdict
from tests.core.nlp.articles import EN_ARTICLE, KO_ARTICLE

NUMBERS_EN = """\
On Oct. 15, 2024, the KOSPI rose 2.5% to 2,613.35 points, its best day since 2020-03-24. \
Samsung Electronics closed at 59,700 won, up 1,200 won, after reporting third-quarter \
revenue of $54.1 billion (79.1 trillion won) and operating profit of 9,183.4 billion won. \
The 2023-2024 season drew 12,345,678 fans; the 2019-2020 season drew 11,902,114. \
Trading ran from 9:00 a.m. to 3:30 p.m. (10/15/2024), and 1,234,567,890 shares changed \
hands. The bill, H.R. 5376, passed 220-207. Seoul's population was 9,411,260 in 2023 and \
the 10-year yield rose +0.12 points to 4.12%, or +3.5% on the week. Flight KE017 leaves \
at 13:45 from gate 23; the new model, 2024.10.15-A, costs $1,299.99 (ISBN \
978-3-16-148410-0). The rocket reached 12,000 km/h at 37.5665, 126.9780.
"""

NUMBERS_KO = """\
코스피는 2024년 10월 15일 2,613.35로 마감해 전일 대비 +2.5% 올랐다. 삼성전자 주가는 \
5만9,700원으로 1,200원 상승했다. 3분기 매출은 79조 1천억 원, 영업이익은 9조 1,834억 원이다. \
2023~2024 시즌 관중은 12,345,678명으로 2010~2019년 평균보다 많았다. 서울 인구는 \
9,411,260명(2023.12.31 기준)이다. 10년 만기 국채 금리는 4.12%로 0.12%p 올랐다. \
20241015 기준 누적 판매량은 1,234,567대다.
"""


def _check(text: str, language: Language = "en", blocked: list[str] | None = None) -> SafetyVerdict:
    return check_text(text, blocked_terms=blocked or [], language=language)


def _rules(verdict: SafetyVerdict) -> list[str]:
    return [f.rule for f in verdict.findings]


# --- clean text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [(EN_ARTICLE, "en"), (KO_ARTICLE, "ko"), (NUMBERS_EN, "en"), (NUMBERS_KO, "ko")],
)
def test_news_full_of_numbers_dates_and_prices_passes(text: str, language: Language) -> None:
    verdict = _check(text, language)
    assert verdict.passed, verdict.reason
    assert verdict.findings == []
    assert verdict.reason == "ok"


# --- personal data ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["kim.minjun@example.co.kr", "press+seoul@news-agency.com", "J_Doe99@Mail.EXAMPLE.org"]
)
def test_email_addresses(email: str) -> None:
    verdict = _check(f"Questions can be sent to {email}. The office opens at 9 a.m.")
    assert _rules(verdict) == ["pii_email"]
    assert email not in verdict.findings[0].excerpt
    assert email.split("@")[1] in verdict.findings[0].excerpt  # domain kept, local part masked


@pytest.mark.parametrize(
    "phone",
    [
        "010-1234-5678",
        "010 1234 5678",
        "01012345678",
        "011-123-4567",
        "+82 10-1234-5678",
        "+82-10-1234-5678",
        "+82 2-123-4567",
        "02-123-4567",
        "031-1234-5678",
        "(02) 123-4567",
        "(555) 234-5678",
        "415-555-0134",
        "415.555.0134",
        "+1 212 555 0188",
        "+44 20 7946 0958",
        "+49 30 1234567",
    ],
)
def test_phone_numbers(phone: str) -> None:
    verdict = _check(f"For tickets call {phone} before Friday.")
    assert _rules(verdict) == ["pii_phone"]
    excerpt = verdict.findings[0].excerpt
    assert phone not in excerpt
    assert excerpt.count("*") == sum(c.isdigit() for c in phone) - 2  # all but the last two


def test_korean_phone_number_with_particle_attached() -> None:
    verdict = _check("제보는 010-9876-5432로 연락하거나 02-123-4567에 남겨 주세요.", "ko")
    assert _rules(verdict) == ["pii_phone", "pii_phone"]


@pytest.mark.parametrize("rrn", ["900101-1234567", "000229-3456789", "8503151234566"])
def test_resident_registration_numbers(rrn: str) -> None:
    verdict = _check(f"피의자의 주민등록번호 {rrn}이 유출됐다.", "ko")
    assert _rules(verdict) == ["pii_rrn"]
    assert verdict.findings[0].excerpt.count("*") == 13


@pytest.mark.parametrize(
    "number",
    [
        "901301-1234567",  # month 13
        "010229-3456789",  # 29 February 2001
        "991231-4123456",  # born in 2099
        "900101-5234567",  # back part must start with 1-4
        "8503151234567",  # bare digits with a wrong check digit
    ],
)
def test_implausible_registration_numbers_are_not_flagged(number: str) -> None:
    assert _check(f"일련번호 {number} 확인", "ko").passed


def test_repeated_value_is_one_finding_with_a_count() -> None:
    verdict = _check("Call 010-1234-5678 or 010-1234-5678, or mail a@example.com.")
    assert [(f.rule, f.detail) for f in verdict.findings] == [
        ("pii_phone", "phone number (2\u00d7)"),
        ("pii_email", "e-mail address"),
    ]


def test_excerpt_masks_every_personal_value_nearby() -> None:
    verdict = _check("Reach Kim at kim@example.com or 010-2222-3333 today.")
    for finding in verdict.findings:
        assert "kim@example.com" not in finding.excerpt
        assert "2222" not in finding.excerpt


# --- profanity -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("The fans shouted 'fuck off' at the referee.", '"fuck"'),
        ("He called the minister a Motherfucker on air.", '"motherfucker"'),
        ("That was SHIT, he wrote.", '"shit"'),
        ("The post used the slur faggots twice.", '"faggots"'),
    ],
)
def test_english_profanity(text: str, term: str) -> None:
    verdict = _check(text)
    assert _rules(verdict) == ["profanity"]
    assert verdict.findings[0].detail == term


def test_english_words_containing_profanity_are_not_flagged() -> None:
    text = (
        "Scunthorpe United beat Middlesbrough. The assessment covered the classic cocktail "
        "bar in Essex, a shiitake farm, the Dickens museum and a raccoon in Penistone. "
        "Analysts passed the cockpit audit, and the grass was assassinated by sheep."
    )
    assert _check(text).passed


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("이런 씨발 진짜 너무하네.", '"씨발"'),
        ("씨.발 같은 상황이다.", '"씨발"'),
        ("그는 상대를 병신이라고 불렀다.", '"병신"'),
        ("지랄하지 마라.", '"지랄"'),
        ("개새끼야 저리 가.", '"개새끼"'),
        ("좆같은 하루였다.", '"좆"'),
        ("저 미친놈이 또 왔어.", '"미친놈"'),
    ],
)
def test_korean_profanity_with_particles_and_punctuation(text: str, term: str) -> None:
    verdict = _check(text, "ko")
    assert _rules(verdict) == ["profanity"]
    assert verdict.findings[0].detail == term


def test_korean_innocent_words_are_not_flagged() -> None:
    text = (
        "김씨 발언이 논란이 됐다. 서울역은 경부선의 시발점이다. 고양이 새끼 세 마리가 태어났다. "
        "기후 변화가 농업에 영향을 미친 것으로 나타났다. 불이 꺼져 있었다. 위기가 닥쳐왔다. "
        "등신대 포스터가 공개됐다. 시바견 두 마리."
    )
    assert _check(text, "ko").passed


def test_korean_text_is_also_checked_for_english_profanity() -> None:
    assert _rules(_check("그는 방송에서 fucking이라고 말했다.", "ko")) == ["profanity"]


def test_english_text_is_not_checked_against_the_korean_list() -> None:
    assert _check("The sign read 씨발 in red paint.", "en").passed


# --- blocked terms ---------------------------------------------------------------------


def test_blocked_terms_match_case_insensitively_as_words() -> None:
    verdict = _check(
        "Crypto prices fell. A CRYPTO exchange and sports  betting sites were fined.",
        blocked=["crypto", "sports betting", "  ", "casino"],
    )
    assert [(f.rule, f.detail) for f in verdict.findings] == [
        ("blocked_term", '"crypto" (2\u00d7)'),
        ("blocked_term", '"sports betting"'),
    ]
    assert _check("Cryptocurrency rallied.", blocked=["crypto"]).passed


def test_korean_blocked_terms_match_with_particles() -> None:
    verdict = _check("불법 도박을 홍보한 업체가 적발됐다.", "ko", blocked=["도박"])
    assert _rules(verdict) == ["blocked_term"]
    assert "도박을" in verdict.findings[0].excerpt


def test_findings_come_in_text_order_and_fail_the_verdict() -> None:
    verdict = _check(
        "Crypto scam: call 010-1234-5678, the shit show continues. Mail scam@example.com.",
        blocked=["crypto"],
    )
    assert not verdict.passed
    assert _rules(verdict) == ["blocked_term", "pii_phone", "profanity", "pii_email"]
    assert verdict.reason.startswith('blocked_term: "crypto"; pii_phone: phone number')
