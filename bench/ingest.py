"""Ingestion throughput and sensor tick time, against a local fake server (no network).

1. A 1,000-entry RSS feed (900 distinct articles of 14 real sentences drawn from the
   bundled sample articles, 70% English / 30% Korean, + 100 syndicated near-copies under
   other URLs) served from 127.0.0.1: time to fetch+parse it, then items
   normalised (canonical URL, language, fingerprint) and de-duplicated per second
   (median of 3 runs), then one full engine tick into a fresh SQLite app database.
2. ``sources_sensor`` with 100 RSS sources (20 entries each) on the fake server: the cold
   tick (2,000 new items registered), a tick where every source answers 304, and a tick
   with nothing due.

    .venv/bin/python bench/ingest.py      # the LAST line is one JSON object
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.fakes: the same fake server the tests use

import dagster as dg  # noqa: E402

from autoclip_core.db.engine import Database  # noqa: E402
from autoclip_core.db.migrate import upgrade  # noqa: E402
from autoclip_core.feeds import SAMPLE_FEED, parse_feed, read_feed  # noqa: E402
from autoclip_core.fetch import fetch  # noqa: E402
from autoclip_core.ingest.config import parse_sources_config  # noqa: E402
from autoclip_core.ingest.dedupe import DedupeIndex  # noqa: E402
from autoclip_core.ingest.engine import IngestEngine  # noqa: E402
from autoclip_core.ingest.normalize import normalize_item  # noqa: E402
from autoclip_core.ingest.state import IngestCursor  # noqa: E402
from autoclip_core.nlp.language import detect_language, detect_language_code  # noqa: E402
from autoclip_core.nlp.sentences import split_sentences  # noqa: E402
from resources.app_database import AppDatabase  # noqa: E402
from sensors.sources import FeedSources, build_sources_sensor  # noqa: E402
from tests.fakes.feeds import rss, rss_item  # noqa: E402
from tests.fakes.server import FakeServer, conditional  # noqa: E402

FEED_ENTRIES = 1000
NEAR_COPIES = 100
SOURCES = 100
ENTRIES_PER_SOURCE = 20


def sentence_pools() -> dict[str, list[str]]:
    """Real sentences of the bundled sample articles (3 English, 2 Korean), by language."""
    pools: dict[str, list[str]] = {"en": [], "ko": []}
    for item in read_feed(str(SAMPLE_FEED), project="bench"):
        language = detect_language(item.text)
        pools[language] += split_sentences(item.text, language)
    return pools


def prose(pools: dict[str, list[str]], seed: int, sentences: int = 14) -> str:
    """A distinct, realistic article: sentences drawn from one language's pool (70% en)."""
    rng = random.Random(seed)
    pool = pools["ko"] if seed % 10 >= 7 else pools["en"]
    picked = rng.sample(pool, min(sentences, len(pool)))
    return "\n\n".join(" ".join(picked[i : i + 3]) for i in range(0, len(picked), 3))


def big_feed(pools: dict[str, list[str]]) -> bytes:
    unique = FEED_ENTRIES - NEAR_COPIES
    items = [
        rss_item(f"a{n}", f"Article {n}", prose(pools, n), link=f"https://news.example.com/a/{n}")
        for n in range(unique)
    ]
    items += [
        rss_item(
            f"copy{n}",
            f"Wire copy {n}",
            "From the wire. " + prose(pools, n) + " All rights reserved.",
            link=f"https://mirror.example.org/wire/{n}",
        )
        for n in range(NEAR_COPIES)
    ]
    return rss(items).encode()


def bench_throughput(
    server: FakeServer, root: Path, pools: dict[str, list[str]]
) -> dict[str, object]:
    url = server.route("/big.xml", conditional(big_feed(pools), '"big"'))
    detect_language_code("warm up the language profiles")
    started = time.perf_counter()
    response = fetch(url, max_bytes=10 * 1024 * 1024)
    items = parse_feed(response.body, project="bench", source=url)
    fetch_parse_s = time.perf_counter() - started

    runs: list[float] = []
    duplicates = 0
    for _ in range(3):
        index = DedupeIndex()
        duplicates = 0
        started = time.perf_counter()
        for item in items:
            item = normalize_item(item)
            if index.match(item.id, item.canonical_url, item.fingerprint) is not None:
                duplicates += 1
                continue
            index.add(item.id, item.canonical_url, item.fingerprint)
        runs.append(time.perf_counter() - started)
    normalise_dedupe_s = statistics.median(runs)

    upgrade(f"sqlite:///{root / 'throughput.db'}")
    database = Database.open(f"sqlite:///{root / 'throughput.db'}")
    config = parse_sources_config({"projects": [{"slug": "bench", "sources": [
        {"name": "big", "kind": "rss", "url": url}]}]})  # fmt: skip
    started = time.perf_counter()
    outcome = IngestEngine(config, database).tick(IngestCursor(), now=datetime.now(UTC))
    tick_s = time.perf_counter() - started
    database.dispose()
    return {
        "feed_entries": len(items),
        "feed_bytes": len(response.body),
        "fetch_parse_s": round(fetch_parse_s, 3),
        "normalise_dedupe_s": round(normalise_dedupe_s, 3),
        "normalise_dedupe_items_per_s": round(len(items) / normalise_dedupe_s, 1),
        "near_duplicates_found": duplicates,
        "engine_tick_s": round(tick_s, 3),
        "engine_tick_items_per_s": round(len(items) / tick_s, 1),
        "engine_tick_registered": len(outcome.new_items),
    }


def bench_sensor(server: FakeServer, root: Path, pools: dict[str, list[str]]) -> dict[str, object]:
    sources = []
    for s in range(SOURCES):
        items = [
            rss_item(f"s{s}-{n}", f"Source {s} story {n}",
                     prose(pools, 10_000 + s * ENTRIES_PER_SOURCE + n),
                     link=f"https://site{s}.example.com/{n}")
            for n in range(ENTRIES_PER_SOURCE)
        ]
        url = server.route(f"/feed/{s}.xml", conditional(rss(items).encode(), f'"{s}"'))
        sources.append({"name": f"s{s}", "kind": "rss", "url": url, "poll_interval": 60})
    config = parse_sources_config(
        {"projects": [{"slug": "many", "auto_generate": True, "sources": sources}]}
    )
    sensor = build_sources_sensor(config)
    db_url = f"sqlite:///{root / 'sensor.db'}"
    upgrade(db_url)
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    with dg.instance_for_test() as instance:

        def tick(name: str, cursor: str | None) -> str:
            context = dg.build_sensor_context(
                instance=instance,
                cursor=cursor,
                resources={"app_db": AppDatabase(url=db_url), "feed_sources": FeedSources()},
            )
            started = time.perf_counter()
            result = sensor(context)
            timings[name] = round(time.perf_counter() - started, 3)
            assert isinstance(result, dg.SensorResult)
            counts[name] = len(result.run_requests or [])
            for request in result.dynamic_partitions_requests or []:
                instance.add_dynamic_partitions(
                    request.partitions_def_name, list(request.partition_keys or [])
                )
            return result.cursor or ""

        cursor = tick("cold_tick_s", None)
        store = AppDatabase(url=db_url).sources
        past = datetime(2000, 1, 1, tzinfo=UTC)
        store.save_health(  # everything due again: health lives in the sources table
            {
                r.id: r.health.model_copy(update={"next_poll_at": past})
                for r in store.records(project="many")
            }
        )
        cursor = tick("all_304_tick_s", cursor)
        tick("idle_tick_s", cursor)
    return {
        "sources": SOURCES,
        "entries_per_source": ENTRIES_PER_SOURCE,
        **timings,
        "cold_tick_new_items": counts["cold_tick_s"],
        "cursor_bytes": len(cursor),
    }


def main() -> None:
    os.environ["AUTOCLIP_FETCH_ALLOW_HOSTS"] = "127.0.0.1"
    server = FakeServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="autoclip-bench-ingest-") as tmp:
            root = Path(tmp)
            pools = sentence_pools()
            throughput = bench_throughput(server, root, pools)
            print(f"1,000-entry feed: {throughput}", flush=True)
            sensor = bench_sensor(server, root, pools)
            print(f"sensor, 100 sources: {sensor}", flush=True)
    finally:
        server.stop()
    print(json.dumps({"throughput": throughput, "sensor_100_sources": sensor,
                      "cpus": os.cpu_count()}))  # fmt: skip


if __name__ == "__main__":
    main()
