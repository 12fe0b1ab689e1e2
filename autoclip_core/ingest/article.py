"""The full text of an entry that carries only a teaser: fetch the article, extract its text.

The page is fetched through the guarded fetcher (same SSRF guard, size cap and timeout as
feeds) and its main text extracted with trafilatura; its ``<link rel=canonical>`` becomes
the item's canonical URL. When anything fails the teaser stays, and the reason is returned
for the source's log — a missing article never fails the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from autoclip_core.fetch import FetchError, fetch
from autoclip_core.schemas import SourceItem

TEASER_MAX_WORDS = 80
_TRUNCATION = re.compile(
    r"(\.\.\.|…|\[\s*(\.\.\.|…)\s*\]|read more|continue reading|더보기)\s*$", re.IGNORECASE
)
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", ""})


def word_count(text: str) -> int:
    return len(text.split())


def is_teaser(item: SourceItem) -> bool:
    """True for an empty or short body, or one that ends like a cut ("…", "Read more")."""
    text = item.text.strip()
    return word_count(text) < TEASER_MAX_WORDS or bool(_TRUNCATION.search(text[-40:]))


def wants_full_text(item: SourceItem, mode: str) -> bool:
    if mode == "never" or not item.url:
        return False
    return mode == "always" or is_teaser(item)


@dataclass(frozen=True)
class Extraction:
    text: str
    canonical_url: str | None
    title: str | None


def extract_article(html: bytes | str, url: str) -> Extraction | None:
    """Main text (and canonical URL) of an article page, or None when none is found."""
    import trafilatura  # imported on use: it is slow to import and only teasers need it

    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
    )
    if document is None:
        return None
    text = (getattr(document, "text", None) or "").strip()
    if not text:
        return None
    return Extraction(
        text=text,
        canonical_url=getattr(document, "url", None) or None,
        title=getattr(document, "title", None) or None,
    )


def _site(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    for prefix in ("www.", "m.", "amp."):
        host = host.removeprefix(prefix)
    return host


def _trusted_canonical(declared: str | None, final_url: str) -> str:
    """The page's declared canonical URL if it stays on the page's own site, else its URL.

    A page must not be able to claim another site's URL (and so suppress that story).
    """
    if declared and declared.startswith(("http://", "https://")):
        if _site(declared) == _site(final_url):
            return declared
    return final_url


class ArticleError(ValueError):
    """No article text at a URL, and why in words (a refused address says so, the fetch
    guard's reason)."""


def read_article(
    url: str, *, max_bytes: int, timeout_s: float, headers: dict[str, str] | None = None
) -> Extraction:
    """The article at ``url``: its main text, canonical URL (``_trusted_canonical``), title."""
    try:
        page = fetch(url, max_bytes=max_bytes, timeout_s=timeout_s, headers=headers)
    except FetchError as exc:
        raise ArticleError(f"article not fetched: {exc.reason}") from exc
    if page.content_type not in HTML_TYPES:
        raise ArticleError(f"article not HTML ({page.content_type}): {url}")
    body: bytes | str = page.body
    if page.charset:
        try:
            body = page.body.decode(page.charset)
        except (LookupError, UnicodeDecodeError):
            body = page.body
    try:
        extraction = extract_article(body, page.url)
    except Exception as exc:  # trafilatura/lxml on hostile markup
        raise ArticleError(f"article text not extracted ({type(exc).__name__}): {url}") from exc
    if extraction is None:
        raise ArticleError(f"no article text found: {url}")
    canonical = _trusted_canonical(extraction.canonical_url, page.url)
    return Extraction(extraction.text, canonical, extraction.title)


def with_full_text(
    item: SourceItem, *, max_bytes: int, timeout_s: float, headers: dict[str, str] | None = None
) -> tuple[SourceItem, str | None]:
    """The item with its article's text when that is longer than the teaser; and a note (the
    teaser stays when anything fails)."""
    try:
        article = read_article(item.url, max_bytes=max_bytes, timeout_s=timeout_s, headers=headers)
    except ArticleError as exc:
        return item, str(exc)
    if word_count(article.text) <= word_count(item.text):
        return item, f"no article text longer than the teaser: {item.url}"
    update: dict[str, object] = {"text": article.text, "canonical_url": article.canonical_url}
    if not item.title and article.title:
        update["title"] = article.title
    return item.model_copy(update=update), None
