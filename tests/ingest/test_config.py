from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoclip_core.ingest.config import (
    JsonApiSource,
    RssSource,
    SourcesConfig,
    SourcesConfigError,
    YoutubeSource,
    legacy_source_name,
    load_sources_config,
    parse_duration,
    parse_sources_config,
    with_legacy_feeds,
)

YAML = """
limits: {max_feed_bytes: 2097152, fetch_timeout_s: 5}
projects:
  - slug: news-ko
    timezone: Asia/Seoul
    daily_batch: {time: "09:00", count: 3}
    topic_weights: {경제: 1.0}
    sources:
      - {name: yonhap, kind: rss, url: "https://example.kr/rss.xml", poll_interval: 15m}
      - {name: channel, kind: youtube, channel_id: UCaaaaaaaaaaaaaaaaaaaaaa, api_key_env: YT_KEY}
      - name: wire
        kind: json_api
        url: https://api.example.com/v1/articles
        auth: {header: Authorization, secret_env: WIRE_TOKEN, prefix: "Bearer "}
        mapping: {items: data.articles, title: headline, text: body, media: "images[].url"}
      - {name: inbox, kind: drop_folder, path: /tmp/inbox}
"""


def test_a_yaml_sources_file_is_loaded_and_typed(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(YAML, encoding="utf-8")
    config = load_sources_config(path)
    [project] = config.projects
    assert (project.slug, project.timezone) == ("news-ko", "Asia/Seoul")
    assert not project.auto_generate
    assert project.daily_batch is not None
    assert (project.daily_batch.time, project.daily_batch.count) == ("09:00", 3)
    rss, youtube, wire, inbox = project.sources
    assert isinstance(rss, RssSource)
    assert rss.poll_interval == 900
    assert isinstance(youtube, YoutubeSource)
    assert youtube.api_method == "playlist_items"
    assert isinstance(wire, JsonApiSource)
    assert wire.mapping.items == "data.articles"
    assert inbox.kind == "drop_folder"
    assert config.limits.max_feed_bytes == 2 * 1024 * 1024
    assert config.limits.tick_budget_s == 40.0  # defaults fill the rest


def test_a_json_sources_file_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "sources.json"
    path.write_text(json.dumps({"projects": [{"slug": "p", "sources": []}]}))
    assert load_sources_config(path).projects[0].slug == "p"


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown IANA time zone"),
        ({"slug": "Bad Slug!"}, "slug"),
        ({"sources": [{"name": "a", "kind": "rss", "url": "u"}] * 2}, "duplicate source names"),
        ({"sources": [{"name": "y", "kind": "youtube", "channel_id": "nope"}]}, "channel_id"),
        ({"sources": [{"name": "a", "kind": "rss", "url": "u", "poll_interval": "59s"}]}, "60 sec"),
        ({"sources": [{"name": "a", "kind": "ftp", "url": "u"}]}, "kind"),
        ({"sources": [{"name": "a", "kind": "webhook"}]}, "created through the API"),
        ({"sources": [{"id": "a", "type": "rss", "url": "u"}]}, "kind"),
        ({"daily_batch": {"time": "25:00"}}, "time"),
        ({"daily_batch": {"count": 51}}, "count"),
        ({"channels": ["Not A Name"]}, "channels"),
        ({"topic_weights": {"x": 3}}, "within 0..1"),
    ],
)
def test_invalid_configuration_is_refused_with_where_and_why(patch: dict, message: str) -> None:
    raw = {"projects": [{"slug": "p", **patch}]}
    with pytest.raises(SourcesConfigError, match=message):
        parse_sources_config(raw)


def test_unreadable_files_give_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourcesConfigError, match="not found"):
        load_sources_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("projects: [unclosed")
    with pytest.raises(SourcesConfigError, match="cannot be parsed"):
        load_sources_config(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n")
    with pytest.raises(SourcesConfigError, match="mapping at the top"):
        load_sources_config(listy)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(90, 90), ("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400)],
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


def test_legacy_feeds_join_the_default_project() -> None:
    config = with_legacy_feeds(SourcesConfig(), ["https://a.example/rss", "/tmp/f.xml"], "demo")
    [project] = config.projects
    assert project.slug == "demo"
    assert project.auto_generate
    assert project.sources == [
        RssSource(name=legacy_source_name(feed), url=feed, poll_interval=300)
        for feed in ("https://a.example/rss", "/tmp/f.xml")
    ]
    existing = parse_sources_config({"projects": [{"slug": "demo", "sources": []}]})
    merged = with_legacy_feeds(existing, ["https://a.example/rss"], "demo")
    assert not merged.projects[0].auto_generate  # the file's settings win
    assert len(merged.projects[0].sources) == 1
