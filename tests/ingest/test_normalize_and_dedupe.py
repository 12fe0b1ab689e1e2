from __future__ import annotations

import random

import pytest

from autoclip_core.ingest.dedupe import DedupeIndex, distance, fingerprint_hex, simhash128
from autoclip_core.ingest.normalize import (
    canonical_url,
    normalize_item,
    parse_time,
    youtube_video_id,
)
from autoclip_core.schemas import SourceItem
from tests.fakes.feeds import article_text


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "http://www.Example.com:80/news/a/?utm_source=rss&utm_medium=feed&b=2&a=1#comments",
            "https://example.com/news/a?a=1&b=2",
        ),
        ("https://m.example.com/story/index.html?fbclid=x", "https://example.com/story"),
        ("https://example.com:8443//double//slash/", "https://example.com:8443/double/slash"),
        ("https://user:pw@example.com/a", "https://example.com/a"),
        ("https://youtu.be/dQw4w9WgXcQ?si=tracking", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        (
            "https://m.youtube.com/watch?v=dQw4w9WgXcQ&feature=share&t=10",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        ),
        (
            "https://www.youtube.com/shorts/dQw4w9WgXcQ",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        ),
        ("javascript:alert(1)", ""),
        ("ftp://example.com/a", ""),
        ("", ""),
        ("https://example.com:99999/", ""),
    ],
)
def test_canonical_urls(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_youtube_ids_only_from_youtube_hosts() -> None:
    assert youtube_video_id("https://www.youtube.com/embed/dQw4w9WgXcQ") == "dQw4w9WgXcQ"
    assert youtube_video_id("https://evil.example.com/watch?v=dQw4w9WgXcQ") is None
    assert youtube_video_id("https://www.youtube.com/watch?v=short") is None


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2024-05-01T09:00:00Z", "2024-05-01T09:00:00+00:00"),
        ("2024-05-01T18:00:00+09:00", "2024-05-01T09:00:00+00:00"),
        ("Wed, 01 May 2024 09:00:00 GMT", "2024-05-01T09:00:00+00:00"),
        (1714554000, "2024-05-01T09:00:00+00:00"),
        (1714554000000, "2024-05-01T09:00:00+00:00"),
        ("yesterday", None),
        (True, None),
        (None, None),
    ],
)
def test_times_from_apis(value: object, iso: str | None) -> None:
    parsed = parse_time(value)
    assert (parsed.isoformat() if parsed else None) == iso


def _item(text: str, url: str = "https://news.example.com/a", title: str = "Title") -> SourceItem:
    return SourceItem(id="p-1", project="p", source="s", url=url, title=title, text=text)


def test_normalisation_sets_language_canonical_url_and_fingerprint() -> None:
    item = normalize_item(
        _item(article_text(1), url="https://www.news.example.com/a/?utm_campaign=x")
    )
    assert item.language == "en"
    assert item.canonical_url == "https://news.example.com/a"
    assert item.fingerprint is not None
    assert len(item.fingerprint) == 32
    korean = normalize_item(_item(article_text(2, korean=True), title="서울 지하철"))
    assert korean.language == "ko"


def test_normalisation_cleans_text_and_titles() -> None:
    item = normalize_item(_item("  Line one\u200b  \r\n\r\n\n  line\x00 two  ", title="<b>T</b>"))
    assert item.text == "Line one\n\nline two"
    assert item.title == "T"


def _edit(text: str, share: float, seed: int) -> str:
    words = text.split()
    rng = random.Random(seed)
    for index in rng.sample(range(len(words)), int(len(words) * share)):
        words[index] = "edited"
    return " ".join(words)


def test_a_syndicated_copy_is_a_near_duplicate_and_other_stories_are_not() -> None:
    original = article_text(7, words=400)
    copy = (
        "From our wire partner: "
        + _edit(original, 0.03, seed=1)
        + " Copyright 2024 Other Outlet. All rights reserved. Share this story."
    )
    index = DedupeIndex()
    index.add("orig", "https://a.example.com/story", fingerprint_hex(original))
    dup = index.match("copy", "https://b.example.org/copy", fingerprint_hex(copy))
    assert dup is not None
    assert dup.of == "orig"
    assert "near-duplicate" in dup.reason
    for seed in range(20, 40):
        other = article_text(seed, words=400)
        assert index.match(f"o{seed}", None, fingerprint_hex(other)) is None


def test_korean_near_duplicates_are_found() -> None:
    original = article_text(3, words=300, korean=True)
    copy = "[연합뉴스] " + original + " 무단 전재 및 재배포 금지."
    assert distance(simhash128(original) or 0, simhash128(copy) or 0) <= 24


def test_short_texts_get_no_fingerprint_and_match_by_url_only() -> None:
    assert fingerprint_hex("too short to fingerprint") is None
    index = DedupeIndex()
    index.add("a", "https://example.com/a", None)
    assert index.match("b", "https://example.com/a", None) is not None
    assert index.match("c", "https://example.com/c", None) is None
    assert index.match("a", None, None) is not None  # same id


def test_the_index_grows_past_its_initial_capacity() -> None:
    index = DedupeIndex()
    for n in range(200):
        index.add(f"i{n}", None, fingerprint_hex(article_text(n, words=120)))
    assert len(index) == 200
    probe = fingerprint_hex(article_text(150, words=120))
    dup = index.match("new", None, probe)
    assert dup is not None
    assert dup.of == "i150"
