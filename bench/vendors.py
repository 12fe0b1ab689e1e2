"""What the paid providers cost in time and calls, against the fake vendors (tests/fakes/).

1. Per provider: wall time of one call through our client (request building, rate limiter,
   cache lookup and write, response parsing, usage record) against its fake on loopback,
   p50/p95 over ``--calls`` calls with fresh inputs (so none is a cache hit). The fakes do
   little work, so this is our client's overhead plus a loopback round trip (for the
   picture vendors, the search and the photo download; for TTS, the fake's speech).
2. The sample feed through ``content_job`` (``make demo``'s code path) with every paid
   provider chosen: requests each vendor saw on the first run and on a rerun.

Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autoclip_assets.definitions import build_definitions
from autoclip_assets.partitions import content_items
from autoclip_cli.demo import prepare_instance, run_item
from autoclip_core.db.migrate import upgrade
from autoclip_core.feeds import SAMPLE_FEED, read_feed
from autoclip_core.settings import Settings
from resources.app_database import AppDatabase
from resources.registry import provider
from resources.visuals.base import SceneCard
from tests.fakes.vendors import KEYS, FakeVendors, running_vendors

# provider name -> (capability, the vendor whose fake answers it)
PROVIDERS = {
    "gemini": ("llm", "gemini"),
    "elevenlabs": ("tts", "elevenlabs"),
    "openai": ("tts", "openai"),
    "google": ("tts", "google_tts"),
    "pexels": ("visuals", "pexels"),
    "pixabay": ("visuals", "pixabay"),
    "openai-images": ("visuals", "openai"),
}


def card(i: int) -> SceneCard:
    return SceneCard(
        headline=f"Story number {i}",
        query=f"topic{i} city",
        keywords=[f"topic{i}", "city"],
        title="Benchmark",
        language="en",
        index=1,
        total=3,
        width=1080,
        height=1920,
    )


def one_call(name: str, resource: object, out: Path) -> Callable[[int], object]:
    capability = PROVIDERS[name][0]
    if capability == "llm":
        return lambda i: resource.judge(f"Benchmark story {i} about city buses.", "en")  # type: ignore[attr-defined]
    if capability == "tts":
        return lambda i: resource.synthesize(  # type: ignore[attr-defined]
            [f"Benchmark sentence number {i}."], "en", out / f"{name}-{i}.wav"
        )
    return lambda i: resource.scene_image(card(i), out / f"{name}-{i}.png")  # type: ignore[attr-defined]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def per_call(fakes: FakeVendors, calls: int) -> dict[str, dict[str, float]]:
    keys = {k.lower(): v for k, v in KEYS.items()}
    figures: dict[str, dict[str, float]] = {}
    for name, (capability, vendor) in PROVIDERS.items():
        with tempfile.TemporaryDirectory(prefix="autoclip-bench-vendor-") as root:
            fields = {"data_dir": Path(root), f"{capability}_provider": name, **keys}
            settings = Settings(**fields)  # type: ignore[arg-type]
            call = one_call(name, provider(capability, settings), Path(root))
            before = fakes.requests()[vendor]
            call(-1)  # connection set-up and imports are not per-call costs
            seconds = []
            for i in range(calls):
                started = time.perf_counter()
                call(i)
                seconds.append(time.perf_counter() - started)
            requests = fakes.requests()[vendor] - before
        figures[name] = {
            "p50_ms": round(1000 * statistics.median(seconds), 1),
            "p95_ms": round(1000 * percentile(seconds, 0.95), 1),
            "requests_per_call": round(requests / (calls + 1), 2),
        }
        print(f"{name}: {figures[name]}", flush=True)
    return figures


def pipeline_calls(fakes: FakeVendors, items_wanted: int) -> dict[str, object]:
    os.environ.update(KEYS)
    with tempfile.TemporaryDirectory(prefix="autoclip-bench-vendors-") as root:
        settings = Settings(data_dir=Path(root))
        upgrade(settings.app_database_url)
        app_db = AppDatabase(url=settings.app_database_url)
        app_db.projects.ensure(settings.default_project)
        items = read_feed(str(SAMPLE_FEED), project=settings.default_project)[:items_wanted]
        for item in items:
            app_db.content.register_item(item)
        instance = prepare_instance(settings)
        instance.add_dynamic_partitions(content_items.name, [i.id for i in items])
        defs = build_definitions(settings)
        result: dict[str, object] = {"items": len(items)}
        for phase in ("first_run", "rerun"):
            before = fakes.requests()
            states = [run_item(defs, instance, app_db, item.id).state for item in items]
            after = fakes.requests()
            result[phase] = {v: after[v] - before[v] for v in after if after[v] > before[v]}
            result[f"{phase}_states"] = states
            print(f"{phase}: {result[phase]} {states}", flush=True)
        result["vendor_usage_rows"] = sum(len(app_db.usage.of_content(i.id)) for i in items)
        app_db.database.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=50, help="Calls per provider.")
    parser.add_argument("--items", type=int, default=5, help="Sample-feed items to run.")
    args = parser.parse_args()
    with running_vendors() as fakes:
        for env in KEYS:
            os.environ.pop(env, None)
        os.environ.pop("AUTOCLIP_REDIS_URL", None)
        os.environ.update({k: v for k, v in fakes.environment().items() if k not in KEYS})
        summary = {
            "per_call": per_call(fakes, args.calls),
            "pipeline": pipeline_calls(fakes, args.items),
        }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
