"""Feed documents for tests: well-formed RSS/Atom/RDF, Korean encodings, hostile payloads."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

WORDS = (
    "city council transit budget river bridge school teachers market prices energy grid "
    "solar wind farmers harvest rain storm museum archive library festival music theatre "
    "hospital nurses clinic vaccine research university students science robot factory "
    "workers union wages housing rent tenants mayor election voters parliament court judge"
).split()
KOREAN_WORDS = (
    "서울시 지하철 요금 인상 시민 교통 버스 정부 예산 경제 성장 수출 반도체 기업 "
    "학교 학생 교사 병원 의사 날씨 태풍 농민 수확 시장 가격 에너지 전력 태양광"
).split()


def article_text(seed: int, words: int = 220, korean: bool = False) -> str:
    """Deterministic filler prose: distinct per seed, paragraphs of ~40 words."""
    rng = random.Random(seed)
    vocab = KOREAN_WORDS if korean else WORDS
    tokens = [rng.choice(vocab) for _ in range(words)]
    paragraphs = [" ".join(tokens[i : i + 40]) + "." for i in range(0, words, 40)]
    return "\n\n".join(paragraphs)


def rss_item(
    guid: str,
    title: str,
    body: str,
    *,
    link: str | None = None,
    published: datetime | None = None,
    extra: str = "",
) -> str:
    published = published or datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in body.split("\n\n"))
    return (
        f"<item><guid>{escape(guid)}</guid><title>{escape(title)}</title>"
        f"<link>{escape(link or f'https://news.example.com/{guid}')}</link>"
        f"<pubDate>{format_datetime(published)}</pubDate>"
        f"<description>{escape(paragraphs)}</description>{extra}</item>"
    )


def rss(items: list[str], *, title: str = "Example News", encoding: str = "utf-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        f"<title>{escape(title)}</title><link>https://news.example.com/</link>"
        + "".join(items)
        + "</channel></rss>"
    )


def rss_feed(
    count: int,
    *,
    prefix: str = "story",
    seed: int = 0,
    words: int = 220,
    host: str = "news.example.com",
    start: datetime | None = None,
) -> bytes:
    """A feed of ``count`` distinct full-text articles."""
    start = start or datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    items = [
        rss_item(
            f"{prefix}-{i}",
            f"{prefix.title()} {i}: {' '.join(article_text(seed * 100_000 + i, 6).split()[:5])}",
            article_text(seed * 100_000 + i, words),
            link=f"https://{host}/{prefix}/{i}",
            published=start - timedelta(minutes=i),
        )
        for i in range(count)
    ]
    return rss(items).encode()


def atom(entries: list[tuple[str, str, str, str]]) -> bytes:
    """(id, title, link, html content) entries."""
    body = "".join(
        f"<entry><id>{escape(i)}</id><title>{escape(t)}</title>"
        f'<link rel="alternate" href="{escape(link)}"/><updated>2024-05-01T09:00:00Z</updated>'
        f'<content type="html">{escape(c)}</content></entry>'
        for i, t, link, c in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Atom example</title><id>urn:example</id><updated>2024-05-01T09:00:00Z</updated>"
        f"{body}</feed>"
    ).encode()


def rdf(entries: list[tuple[str, str, str]]) -> bytes:
    """An RSS 1.0 (RDF) feed of (link, title, description) entries."""
    seq = "".join(f'<rdf:li rdf:resource="{escape(link)}"/>' for link, _, _ in entries)
    items = "".join(
        f'<item rdf:about="{escape(link)}"><title>{escape(t)}</title><link>{escape(link)}</link>'
        f"<description>{escape(d)}</description></item>"
        for link, t, d in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://rdf.example.com/">'
        "<title>RDF example</title><link>https://rdf.example.com/</link>"
        f"<description>d</description><items><rdf:Seq>{seq}</rdf:Seq></items></channel>"
        f"{items}</rdf:RDF>"
    ).encode()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>&lol3;</title><item><title>x</title>
<description>&lol3;</description></item></channel></rss>"""

QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "'
    + b"A" * 50_000
    + b'">]><rss version="2.0"><channel><title>t</title><item><title>x</title><description>'
    + b"&a;" * 5_000
    + b"</description></item></channel></rss>"
)

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><title>x</title>
<description>&xxe;</description></item></channel></rss>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE rss SYSTEM "http://169.254.169.254/evil.dtd">
<rss version="2.0"><channel><title>t</title><item><title>x</title>
<description>body</description></item></channel></rss>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://169.254.169.254/x.dtd"> %remote;]>
<rss version="2.0"><channel><title>t</title></channel></rss>"""

# Not well-formed AND carrying a DOCTYPE: must not be handed to the lenient parser.
MALFORMED_WITH_DOCTYPE = b"""garbage<!DOCTYPE rss [<!ENTITY a "x">]>
<rss version="2.0"><channel><item><title>&a;</title><description>d</description></item>"""
