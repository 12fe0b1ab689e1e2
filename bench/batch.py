"""A batch through the API: ``--items`` content items created and generated at once (local
providers, ~45 s shorts, ``make dev``'s stack with the repository's dagster.yaml run queue),
beside its baseline from the same run: one item alone first (what the machine does one at a
time).

Prints the baseline, each item's ``generate`` → ``ready`` time, and as its LAST line one JSON
object: ``shorts_per_hour``, ``p50_s``, ``p95_s`` (per item, ``generate`` → ``ready``),
``max_concurrent_runs`` (peak of runs executing at once, from Dagster's run records),
``wall_s``, ``single_item_s`` and the rate one at a time would give, the median render step
and the share of the wall time some render was under way (the ``ffmpeg`` pool runs one at a
time: the run queue's limits should keep it busy), the CPU time per short of the whole stack
(every process ``autoclip dev`` started: runs, renders, Dagster, the API) and the rate the
machine's cores allow at that cost — which other work on the machine hardly changes, unlike
the wall times — the median video length and the load average before and after (other work on
the machine shows there).

    make bench-batch    # or: bash scripts/with-test-services.sh .venv/bin/python bench/batch.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devstack import (
    RUN_TIMEOUT_S,
    Creator,
    DevStack,
    articles,
    cpu_seconds,
    loadavg,
    log,
    percentile,
    report,
)

from autoclip_core.pipeline_names import CONTENT_JOB, PARTITION_TAG

BENCH_DATABASE = "autoclip_bench_batch"
DONE = {"ready", "failed"}
RENDER_STEP = "video"
STEPS = """
query Steps($runId: ID!) {
  runOrError(runId: $runId) { ... on Run { stepStats { stepKey startTime endTime } } }
}
"""


def peak_overlap(runs: list[dict[str, Any]]) -> int:
    """The most runs executing at the same moment (start → end)."""
    ran = [r for r in runs if r["startTime"] is not None and r["endTime"] is not None]
    edges = sorted(
        [(float(r["startTime"]), 1) for r in ran] + [(float(r["endTime"]), -1) for r in ran]
    )
    peak = current = 0
    for _, step in edges:  # an end sorts before a start at the same instant
        current += step
        peak = max(peak, current)
    return peak


def busy_seconds(spans: list[tuple[float, float]]) -> float:
    """How long at least one of the (start, end) spans was under way."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def render_spans(stack: DevStack, runs: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """When each run's render step ran."""
    spans = []
    for run in runs:
        stats = stack.graphql(STEPS, runId=run["runId"])["runOrError"]["stepStats"]
        spans += [
            (float(step["startTime"]), float(step["endTime"]))
            for step in stats
            if step["stepKey"] == RENDER_STEP and step["endTime"] is not None
        ]
    return spans


def single(stack: DevStack, creator: Creator, project_id: str, article: tuple[str, str]) -> float:
    item_id = creator.create(project_id, *article)
    started = time.perf_counter()
    creator.generate(item_id)
    item = creator.wait_state(stack, item_id, DONE)
    if item["state"] != "ready":
        raise SystemExit(f"the baseline item failed: {item['state_reason']}")
    return time.perf_counter() - started


def batch(
    stack: DevStack, creator: Creator, project_id: str, chosen: list[tuple[str, str]]
) -> tuple[float, dict[str, float], dict[str, str]]:
    """Every item created and generated at once; the wall time from the first request to the
    last item done, each item's ``generate`` → done time and its final state."""
    generated: dict[str, float] = {}
    lock = threading.Lock()

    def make(article: tuple[str, str]) -> None:
        item_id = creator.create(project_id, *article)
        creator.generate(item_id)
        with lock:
            generated[item_id] = time.perf_counter()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(chosen)) as pool:
        list(pool.map(make, chosen))
    log(f"{len(chosen)} items created and generated in {time.perf_counter() - started:.1f} s")
    finished: dict[str, float] = {}
    states: dict[str, str] = {}

    def all_done() -> bool:
        page = creator.call("GET", "/contents", params={"project_id": project_id, "limit": 200})
        now = time.perf_counter()
        for item in page["items"]:
            if item["id"] in generated and item["state"] in DONE and item["id"] not in finished:
                finished[item["id"]] = now
                states[item["id"]] = item["state"]
                log(
                    f"{len(finished):2d}/{len(chosen)} {item['state']} after "
                    f"{now - generated[item['id']]:.1f} s: {item['title'][:60]}"
                )
        return len(finished) == len(chosen)

    stack.wait_until("the batch", all_done, RUN_TIMEOUT_S)
    wall = max(finished.values()) - started
    return wall, {i: finished[i] - generated[i] for i in generated}, states


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument(
        "--max-concurrent-runs", type=int, help="override dagster.yaml's run queue limit"
    )
    args = parser.parse_args()
    load_before = loadavg()
    chosen = articles(args.items + 1)
    with DevStack.running(BENCH_DATABASE, max_concurrent_runs=args.max_concurrent_runs) as stack:
        creator = Creator(stack.api_url)
        project_id = creator.project(review_required=True)
        cpu = cpu_seconds(stack.process.pid)
        alone = single(stack, creator, project_id, chosen[-1])
        alone_cpu = cpu_seconds(stack.process.pid) - cpu
        log(
            f"baseline: one item alone, generate → ready {alone:.1f} s, {alone_cpu:.1f} s of CPU "
            f"(load average {loadavg()})"
        )
        cpu = cpu_seconds(stack.process.pid)
        wall, seconds, states = batch(stack, creator, project_id, chosen[:-1])
        batch_cpu = cpu_seconds(stack.process.pid) - cpu
        runs = [
            run
            for item_id in seconds
            for run in stack.runs(**{PARTITION_TAG: item_id})
            if run["jobName"] == CONTENT_JOB
        ]
        ready = [i for i, state in states.items() if state == "ready"]
        renders = render_spans(stack, runs)
        videos = [creator.video_seconds(i, stack.root) for i in ready]
        creator.close()
    load_after = loadavg()
    done = [seconds[i] for i in ready]
    summary = {
        "items": len(seconds),
        "ready": len(ready),
        "failed": len(seconds) - len(ready),
        "wall_s": round(wall, 1),
        "shorts_per_hour": round(len(ready) / wall * 3600, 1),
        "p50_s": round(statistics.median(done), 1) if done else None,
        "p95_s": round(percentile(done, 0.95), 1) if done else None,
        "max_concurrent_runs": peak_overlap(runs),
        "render_step_p50_s": (
            round(statistics.median(e - s for s, e in renders), 1) if renders else None
        ),
        "renderer_busy": round(busy_seconds(renders) / wall, 2),
        "cpu_s_per_short": round(batch_cpu / max(len(ready), 1), 1),
        "cpu_bound_shorts_per_hour": round(
            (os.cpu_count() or 1) * 3600 / (batch_cpu / max(len(ready), 1)), 1
        ),
        "single_item_s": round(alone, 1),
        "single_item_cpu_s": round(alone_cpu, 1),
        "one_at_a_time_shorts_per_hour": round(3600 / alone, 1),
        "video_s": round(statistics.median(videos), 1) if videos else None,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
    }
    report(
        f"{summary['ready']}/{summary['items']} shorts in {summary['wall_s']} s: "
        f"{summary['shorts_per_hour']} shorts/hour (one at a time: "
        f"{summary['one_at_a_time_shorts_per_hour']}); generate → ready p50 {summary['p50_s']} s, "
        f"p95 {summary['p95_s']} s; at most {summary['max_concurrent_runs']} runs at once; "
        f"renders {summary['render_step_p50_s']} s each (median), the renderer busy "
        f"{summary['renderer_busy']:.0%} of the wall time; {summary['cpu_s_per_short']} s of CPU "
        f"per short: at most {summary['cpu_bound_shorts_per_hour']} shorts/hour on "
        f"{os.cpu_count()} cores",
        summary,
    )


if __name__ == "__main__":
    main()
