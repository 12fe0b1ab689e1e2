from __future__ import annotations

import pytest

from autoclip_core.ingest.article import is_teaser, wants_full_text, with_full_text
from autoclip_core.schemas import SourceItem
from tests.fakes.feeds import article_text
from tests.fakes.server import FakeServer, Reply

ARTICLE = """<!DOCTYPE html><html><head><title>Bridge reopens</title>
<link rel="canonical" href="{canonical}"></head><body>
<nav>Home | World | Sport</nav>
<article><h1>Bridge reopens after repairs</h1>{paragraphs}</article>
<footer>Copyright Example News</footer><script>track()</script></body></html>"""


def page(canonical: str, words: int = 400) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in article_text(5, words).split("\n\n"))
    return ARTICLE.format(canonical=canonical, paragraphs=paragraphs).encode()


def teaser(url: str) -> SourceItem:
    return SourceItem(
        id="p-1", project="p", source="feed", url=url, title="Bridge reopens",
        text="The city's main bridge reopened on Monday after repairs …",
    )  # fmt: skip


def test_teasers_are_recognised() -> None:
    assert is_teaser(teaser("https://x.example/a"))
    long = teaser("https://x.example/a").model_copy(update={"text": article_text(1, 200)})
    assert not is_teaser(long)
    assert wants_full_text(long, "always")
    assert not wants_full_text(teaser("https://x.example/a"), "never")
    assert not wants_full_text(teaser(""), "always")


@pytest.mark.usefixtures("allow_loopback")
def test_a_teaser_gets_the_articles_main_text_and_canonical_url(fake_server: FakeServer) -> None:
    canonical = fake_server.url("/news/bridge")
    url = fake_server.route("/news/bridge-amp", Reply(body=page(canonical),
                            headers={"Content-Type": "text/html; charset=utf-8"}))  # fmt: skip
    item, note = with_full_text(teaser(url), max_bytes=1_000_000, timeout_s=5)
    assert note is None
    assert len(item.text.split()) > 300
    assert "Copyright Example News" not in item.text
    assert "track()" not in item.text
    assert item.canonical_url == canonical


@pytest.mark.usefixtures("allow_loopback")
def test_a_page_cannot_claim_another_sites_url(fake_server: FakeServer) -> None:
    url = fake_server.route("/a", Reply(body=page("https://victim.example.com/their-story"),
                            headers={"Content-Type": "text/html"}))  # fmt: skip
    item, _ = with_full_text(teaser(url), max_bytes=1_000_000, timeout_s=5)
    assert item.canonical_url == url


def test_an_article_link_to_a_private_address_keeps_the_teaser() -> None:
    item, note = with_full_text(
        teaser("http://169.254.169.254/latest/meta-data/"), max_bytes=1000, timeout_s=1
    )
    assert item.text.endswith("…")
    assert note is not None
    assert note == "article not fetched: address not allowed: 169.254.169.254"


@pytest.mark.usefixtures("allow_loopback")
@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=404),
        Reply(body=b"%PDF-1.4 binary", headers={"Content-Type": "application/pdf"}),
        Reply(body=b"<html><p>Tiny.</p></html>", headers={"Content-Type": "text/html"}),
        Reply(body=b"<html>" + b"<div>" * 50_000, headers={"Content-Type": "text/html"}),
    ],
)
def test_unusable_articles_keep_the_teaser_with_a_reason(
    fake_server: FakeServer, reply: Reply
) -> None:
    url = fake_server.route("/bad", reply)
    item, note = with_full_text(teaser(url), max_bytes=1_000_000, timeout_s=5)
    assert item.text == teaser(url).text
    assert note
