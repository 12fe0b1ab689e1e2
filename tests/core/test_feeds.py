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


# --- encodings, hostile and malformed feeds -------------------------------------------------

KOREAN_RSS = """<?xml version="1.0" encoding="{encoding}"?>
<rss version="2.0"><channel><title>한국 뉴스</title>
<item><guid>kr-1</guid><title>서울 지하철 요금 인상</title><link>https://news.example.kr/1</link>
<description>서울시는 다음 달부터 지하철 기본요금을 150원 인상한다고 밝혔다.</description></item>
<item><guid>kr-2</guid><title>똠방각하, 뷁: 확장 완성형 글자</title><link>https://news.example.kr/2</link>
<description>CP949에만 있는 글자: 똠, 뷁, 햏.</description></item>
</channel></rss>"""


@pytest.mark.parametrize("declared", ["EUC-KR", "euc-kr", "CP949", "ks_c_5601-1987"])
def test_korean_legacy_encodings_are_read(declared: str) -> None:
    data = KOREAN_RSS.format(encoding=declared).encode("cp949")
    items = parse_feed(data, project="p", source="kr.xml")
    assert items[0].title == "서울 지하철 요금 인상"
    # CP949-only syllables in a feed that says EUC-KR
    assert items[1].title == "똠방각하, 뷁: 확장 완성형 글자"
    assert "햏" in items[1].text


def test_utf8_with_bom_is_read() -> None:
    data = b"\xef\xbb\xbf" + KOREAN_RSS.format(encoding="utf-8").encode()
    assert parse_feed(data, project="p", source="bom.xml")[0].title == "서울 지하철 요금 인상"


def test_utf16_is_read() -> None:
    data = KOREAN_RSS.format(encoding="utf-16").encode("utf-16")
    assert parse_feed(data, project="p", source="u16.xml")[0].title == "서울 지하철 요금 인상"


def test_a_wrong_declared_encoding_falls_back_to_what_decodes() -> None:
    data = KOREAN_RSS.format(encoding="utf-8").encode("cp949")  # says UTF-8, is CP949
    assert parse_feed(data, project="p", source="liar.xml")[0].title == "서울 지하철 요금 인상"


def test_the_http_charset_is_used_when_the_document_declares_none() -> None:
    data = KOREAN_RSS.format(encoding="x").replace('<?xml version="1.0" encoding="x"?>', "")
    items = parse_feed(data.encode("cp949"), project="p", source="h.xml", charset="euc-kr")
    assert items[0].title == "서울 지하철 요금 인상"


def test_html_in_titles_is_reduced_to_text_and_links_must_be_http() -> None:
    data = b"""<rss version="2.0"><channel><title>t</title>
    <item><title>&lt;b&gt;Bold&lt;/b&gt; &amp;amp; &lt;script&gt;alert(1)&lt;/script&gt;news</title>
    <link>javascript:alert(1)</link><description>Body text here.</description></item>
    </channel></rss>"""
    [item] = parse_feed(data, project="p", source="s")
    assert item.title == "Bold & news"
    assert item.url == ""


def test_duplicate_guids_and_missing_fields_are_handled() -> None:
    data = b"""<rss version="2.0"><channel><title>t</title>
    <item><guid>same</guid><title>First</title><description>One.</description></item>
    <item><guid>same</guid><title>Second copy</title><description>Two.</description></item>
    <item><guid>no-title</guid>
      <description>A body without a title becomes the title.</description></item>
    <item><guid>empty</guid></item>
    </channel></rss>"""
    items = parse_feed(data, project="p", source="s")
    assert [i.title for i in items] == ["First", "A body without a title becomes the title."]


def test_bare_ampersands_are_repaired_not_mangled() -> None:
    data = b"""<rss version="2.0"><channel><title>t</title>
    <item><title>AT&T and R&D</title><description>Fish & chips.</description></item>
    </channel></rss>"""
    [item] = parse_feed(data, project="p", source="s")
    assert (item.title, item.text) == ("AT&T and R&D", "Fish & chips.")


def test_invalid_control_characters_are_dropped() -> None:
    data = b"""<rss version="2.0"><channel><title>t</title>
    <item><title>Bad\x0b char\x00s</title><description>Text\x1f here.</description></item>
    </channel></rss>"""
    [item] = parse_feed(data, project="p", source="s")
    assert item.title == "Bad chars"


def test_rss1_rdf_feeds_are_read() -> None:
    from tests.fakes.feeds import rdf

    data = rdf([("https://rdf.example.com/a", "RDF story", "Text of the RDF story.")])
    [item] = parse_feed(data, project="p", source="rdf.xml")
    assert (item.title, item.url) == ("RDF story", "https://rdf.example.com/a")


def test_media_links_come_from_media_content_thumbnails_and_enclosures() -> None:
    data = b"""<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>t</title>
    <item><title>With media</title><description>Text.</description>
    <media:content url="https://cdn.example.com/a.jpg"/>
    <media:thumbnail url="https://cdn.example.com/t.jpg"/>
    <enclosure url="https://cdn.example.com/a.mp3" type="audio/mpeg" length="1"/>
    <media:content url="javascript:alert(1)"/></item></channel></rss>"""
    [item] = parse_feed(data, project="p", source="s")
    assert item.media_links == [
        "https://cdn.example.com/a.jpg",
        "https://cdn.example.com/t.jpg",
        "https://cdn.example.com/a.mp3",
    ]


@pytest.mark.parametrize(
    "name", ["QUADRATIC_BLOWUP", "EXTERNAL_DTD", "PARAMETER_ENTITY", "MALFORMED_WITH_DOCTYPE"]
)
def test_more_xml_attacks_are_refused(name: str) -> None:
    from tests.fakes import feeds

    with pytest.raises(FeedError, match="refused"):
        parse_feed(getattr(feeds, name), project="p", source=f"{name}.xml")


def test_an_oversize_document_is_refused_before_parsing() -> None:
    with pytest.raises(FeedError, match="larger than 1024 bytes"):
        parse_feed(b"<rss>" + b" " * 2000 + b"</rss>", project="p", source="s", max_bytes=1024)


def test_headline_only_entries_are_kept_when_text_is_not_required() -> None:
    data = b"""<rss version="2.0"><channel><title>t</title>
    <item><title>Headline</title><link>https://news.example.com/h</link></item>
    </channel></rss>"""
    with pytest.raises(FeedError, match="title and text"):
        parse_feed(data, project="p", source="s")
    [item] = parse_feed(data, project="p", source="s", require_text=False)
    assert (item.title, item.text, item.url) == ("Headline", "", "https://news.example.com/h")


def test_a_feed_url_is_read_through_the_guarded_fetcher(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakes.net import forbid_outside_connections, running_server
    from tests.fakes.server import Reply

    forbid_outside_connections(monkeypatch)
    with running_server() as server:
        data = KOREAN_RSS.format(encoding="x").replace('<?xml version="1.0" encoding="x"?>', "")
        headers = {"Content-Type": "text/xml; charset=euc-kr"}
        url = server.route("/kr", Reply(body=data.encode("cp949"), headers=headers))
        from autoclip_core.fetch import FetchRefusedError

        with pytest.raises(FetchRefusedError, match="non-public address"):
            read_feed(url, project="p")
        monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.1")
        assert read_feed(url, project="p")[0].title == "서울 지하철 요금 인상"
