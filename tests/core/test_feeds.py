from __future__ import annotations

from pathlib import Path

import pytest

from autoclip_core.feeds import SAMPLES, FeedError, html_to_text, parse_feed, read_feed

RSS = SAMPLES / "sample_feed.rss.xml"
ATOM = SAMPLES / "sample_feed.atom.xml"


def test_sample_rss_and_atom_carry_the_same_five_articles() -> None:
    rss = read_feed(str(RSS), project="demo")
    atom = read_feed(str(ATOM), project="demo")
    assert len(rss) == 5
    assert [i.id for i in rss] == [i.id for i in atom]
    assert [i.title for i in rss] == [i.title for i in atom]


def test_sample_articles_have_realistic_length_in_both_languages() -> None:
    items = read_feed(str(RSS), project="demo")
    words = [len(i.text.split()) for i in items]
    assert all(300 <= w <= 1500 for w in words), words
    hangul = [i for i in items if any("\uac00" <= ch <= "\ud7a3" for ch in i.text)]
    assert len(hangul) == 2


def test_item_ids_are_stable_per_project() -> None:
    first = read_feed(str(RSS), project="demo")
    again = read_feed(str(RSS), project="demo")
    other = read_feed(str(RSS), project="other")
    assert [i.id for i in first] == [i.id for i in again]
    assert not {i.id for i in first} & {i.id for i in other}


def test_html_is_reduced_to_paragraphs_of_plain_text() -> None:
    text = html_to_text("<p>One &amp; two</p><script>alert(1)</script><p>Three<br>four</p>")
    assert text == "One & two\n\nThree\n\nfour"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>&lol3;</title><item><title>x</title>
<description>&lol3;</description></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><title>x</title>
<description>&xxe;</description></item></channel></rss>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_entity_and_dtd_tricks_are_refused(payload: bytes) -> None:
    with pytest.raises(FeedError, match="unsafe XML"):
        parse_feed(payload, project="p", source="evil.xml")


def test_malformed_xml_gives_a_clear_error() -> None:
    with pytest.raises(FeedError, match="not well-formed"):
        parse_feed(b"<rss><channel><item>", project="p", source="broken.xml")


def test_feed_without_usable_entries_is_an_error() -> None:
    empty = b'<rss version="2.0"><channel><title>t</title></channel></rss>'
    with pytest.raises(FeedError, match="no entries"):
        parse_feed(empty, project="p", source="empty.xml")


def test_oversize_feed_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("autoclip_core.feeds.MAX_FEED_BYTES", 100)
    big = tmp_path / "big.xml"
    big.write_bytes(RSS.read_bytes())
    with pytest.raises(FeedError, match="larger than 100 bytes"):
        read_feed(str(big), project="p")


def test_missing_feed_file_is_an_error() -> None:
    with pytest.raises(FeedError, match="not found"):
        read_feed("/nonexistent/feed.xml", project="p")
