"""Per-item pipeline time, source item → published short, on local providers.

Runs every item of the sample feed through ``content_job`` in a fresh data dir (cold: nothing
cached), then once more (warm: everything content-addressed is reused). Prints each item's
time split per asset; the LAST line is one JSON object with the medians.

    make bench-pipeline          # or: .venv/bin/python bench/pipeline.py [--feed F]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from autoclip_assets.definitions import build_definitions
from autoclip_assets.partitions import content_items
from autoclip_cli.demo import prepare_instance, run_item
from autoclip_core.db.migrate import upgrade
from autoclip_core.feeds import SAMPLE_FEED, read_feed
from autoclip_core.render.probe import probe
from autoclip_core.settings import Settings
from resources.app_database import AppDatabase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feed", default=str(SAMPLE_FEED))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="autoclip-bench-") as root:
        settings = Settings(data_dir=Path(root))
        upgrade(settings.app_database_url)
        app_db = AppDatabase(url=settings.app_database_url)
        app_db.projects.ensure(settings.default_project)
        items = read_feed(args.feed, project=settings.default_project)
        for item in items:
            app_db.content.register_item(item)
        instance = prepare_instance(settings)
        instance.add_dynamic_partitions(content_items.name, [i.id for i in items])
        defs = build_definitions(settings)
        results: dict[str, list[dict[str, object]]] = {"cold": [], "warm": []}
        for phase in ("cold", "warm"):
            for item in items:
                outcome = run_item(defs, instance, app_db, item.id)
                duration = probe(outcome.video_path).duration if outcome.video_path else 0.0
                row = {"id": item.id, "language": outcome.language, "state": outcome.state,
                       "seconds": round(outcome.seconds, 2), "video_s": round(duration, 1),
                       "steps": outcome.step_seconds}
                results[phase].append(row)
                print(f"{phase} {item.id} [{outcome.language}] {outcome.state}: "
                      f"{outcome.seconds:.1f} s for {duration:.1f} s of video — "
                      + ", ".join(f"{k} {v:.2f}" for k, v in outcome.step_seconds.items()),
                      flush=True)
        cold = results["cold"]
        steps = sorted({k for r in cold for k in r["steps"]})  # type: ignore[union-attr]
        summary = {
            "items": len(cold),
            "median_item_s": statistics.median(r["seconds"] for r in cold),  # type: ignore[misc]
            "median_video_s": statistics.median(r["video_s"] for r in cold),  # type: ignore[misc]
            "median_warm_item_s": statistics.median(r["seconds"] for r in results["warm"]),  # type: ignore[misc]
            "median_step_s": {
                s: statistics.median(r["steps"].get(s, 0.0) for r in cold)  # type: ignore[union-attr]
                for s in steps
            },
        }
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
