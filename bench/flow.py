"""Flow timings through the API and a real Dagster (``make dev``'s stack, local providers,
PostgreSQL), each beside its baseline from the same run:

1. ``generate`` → the run visible in Dagster, queued (``--tries``, p50/p95; target p95
   ≤ 300 ms): until the run is listed (its record is written first, NOT_STARTED) and until it
   is queued (the submission complete). Baseline: the same submission made straight to the
   webserver with the API's own client (``addDynamicPartition`` + ``submit_job_execution``),
   tries interleaved. One untimed warm-up first (each process's first submission loads
   Dagster's GraphQL client: printed, not counted). Every run is cancelled once queued, so
   none of them costs a render.
2. ``POST /contents`` → ``ready`` for a ~45 s short, item after item (``--items``; target
   ≤ 60 s). Baseline: the run's steps (start → end in Dagster); the rest is split into the
   time until the run exists (the API, its outbox, the webserver), the submission's end, the
   queue, the run's launch (a run worker process loading the pipeline) and the time until the
   API shows the outcome (the run-status sensors).
3. ``approve`` → ``published`` of those items (target ≤ 10 s), split alike. Baseline: the
   publication run's steps.

Prints each measurement, then as its LAST line one JSON object (with the load averages before
and after: other work on the machine shows there).

    make bench-flow     # or: bash scripts/with-test-services.sh .venv/bin/python bench/flow.py
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from devstack import (
    DAGSTER_STORAGES,
    Creator,
    DevStack,
    articles,
    loadavg,
    log,
    percentile,
    report,
)

from autoclip_api.dagster.client import DagsterClient
from autoclip_core.pipeline_names import (
    CONTENT_JOB,
    CONTENT_PARTITIONS,
    PARTITION_TAG,
    PUBLISH_JOB,
    REQUEST_TAG,
)

BENCH_DATABASE = "autoclip_bench_flow"
POLL_S = 0.025
"""Between two looks at Dagster's runs: often enough to time the submission, rarely enough not
to slow down the webserver that is handling it."""
CANCELLED = "TerminateRunSuccess"
ACTIVE = {"STARTING", "STARTED", "CANCELING"}
CANCEL = """
mutation Cancel($runId: String!) { terminateRun(runId: $runId) { __typename } }
"""


def visible(stack: DevStack, tag: tuple[str, str], started: float) -> tuple[float, float, str]:
    """Seconds from ``started`` until a run tagged ``tag`` is listed in Dagster (its record is
    written first, NOT_STARTED) and until it is queued (the submission complete); its id."""
    listed = None
    while True:
        runs = stack.runs(**{tag[0]: tag[1]})
        if runs and listed is None:
            listed = time.perf_counter() - started
        if runs and listed is not None and runs[0]["status"] != "NOT_STARTED":
            return listed, time.perf_counter() - started, str(runs[0]["runId"])
        if time.perf_counter() - started > 30:
            raise SystemExit(f"no run tagged {tag} queued within 30 s")
        time.sleep(POLL_S)


def cancel(stack: DevStack, run_id: str) -> None:
    """Cancel the run (queued: at once; dequeued meanwhile: once Dagster lets it be)."""
    deadline = time.monotonic() + 60
    while stack.graphql(CANCEL, runId=run_id)["terminateRun"]["__typename"] != CANCELLED:
        if time.monotonic() > deadline:
            raise SystemExit(f"run {run_id} could not be cancelled")
        time.sleep(0.2)


def submissions(stack: DevStack, creator: Creator, tries: int) -> dict[str, list[float]]:
    """generate → listed and queued through the API, and the direct submission (until
    queued), interleaved."""
    project_id = creator.project()
    title, article = articles(1)[0]
    client = DagsterClient(f"{stack.dagster_url}/graphql", "autoclip")
    found: dict[str, list[float]] = {"listed": [], "queued": [], "direct": []}
    try:
        for n in range(-1, tries):  # -1: the warm-up
            item_id = creator.create(project_id, f"{title} [{n}]", article)
            started = time.perf_counter()
            job = creator.generate(item_id)
            listed, queued, run_id = visible(stack, (REQUEST_TAG, job["id"]), started)
            cancel(stack, run_id)

            other = creator.create(project_id, f"{title} [{n}, direct]", article)
            started = time.perf_counter()
            client.add_partition(CONTENT_PARTITIONS, other)
            run_id = client.submit(CONTENT_JOB, tags={PARTITION_TAG: other})
            direct = time.perf_counter() - started
            cancel(stack, run_id)
            log(
                f"{'warm-up' if n < 0 else f'try {n + 1}'}: generate → run listed in Dagster "
                f"{listed * 1000:.0f} ms, queued {queued * 1000:.0f} ms; direct submission "
                f"{direct * 1000:.0f} ms"
            )
            if n >= 0:  # each process's first submission loads Dagster's GraphQL client
                found["listed"].append(listed)
                found["queued"].append(queued)
                found["direct"].append(direct)
    finally:
        client.close()
    return found


def timeline(
    stack: DevStack, run: dict[str, Any], requested: float, seen: float
) -> dict[str, float]:
    """Where the time from a request (``requested``, the epoch) until its outcome was seen
    through the API (``seen``) went: to the run's creation (the API, its outbox and the
    webserver), the run's phases in Dagster, and from the run's end until the API showed it
    (the run-status sensor; negative when a step recorded it before the run ended, as a
    publication does)."""
    phases = stack.phases(run)
    return {
        "to_run_s": float(run["creationTime"]) - requested,
        "submit_s": phases.submit_s,
        "queue_s": phases.queue_s,
        "launch_s": phases.launch_s,
        "steps_s": phases.steps_s,
        "recorded_s": seen - phases.ended_at,
    }


def spent(parts: dict[str, float]) -> str:
    return ", ".join(f"{key.removesuffix('_s')} {value:.1f}" for key, value in parts.items())


def items_to_published(
    stack: DevStack, creator: Creator, count: int, folder: Path
) -> list[dict[str, Any]]:
    project_id = creator.project(review_required=True)
    rows = []
    for title, article in articles(count):
        started = time.perf_counter()
        item_id = creator.create(project_id, title, article)
        requested = time.time()
        creator.generate(item_id)
        item = creator.wait_state(stack, item_id, {"ready", "failed"})
        to_ready = time.perf_counter() - started
        if item["state"] != "ready":
            raise SystemExit(f"{title}: {item['state']} ({item['state_reason']})")
        [content_run] = stack.runs(**{PARTITION_TAG: item_id})
        making = timeline(stack, content_run, requested, time.time())

        started, requested = time.perf_counter(), time.time()
        creator.call("POST", f"/contents/{item_id}/approve", json={})
        item = creator.wait_state(stack, item_id, {"published", "failed_upload"})
        to_published = time.perf_counter() - started
        if item["state"] != "published":
            raise SystemExit(f"{title}: {item['state']} ({item['state_reason']})")
        publish_run = next(
            r for r in stack.runs(**{PARTITION_TAG: item_id}) if r["jobName"] == PUBLISH_JOB
        )
        publishing = timeline(stack, publish_run, requested, time.time())
        row = {
            "video_s": creator.video_seconds(item_id, folder),
            "to_ready_s": to_ready,
            "run_s": making["steps_s"],
            "to_published_s": to_published,
            "publish_run_s": publishing["steps_s"],
            "making": making,
            "publishing": publishing,
        }
        rows.append(row)
        log(
            f"{title[:50]}: {row['video_s']:.1f} s short; POST → ready {to_ready:.1f} s "
            f"({spent(making)}); approve → published {to_published:.1f} s ({spent(publishing)})"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--items", type=int, default=3, help="shorts made one after another")
    parser.add_argument("--tries", type=int, default=10, help="generate → visible measurements")
    parser.add_argument(
        "--dagster-storage",
        choices=DAGSTER_STORAGES,
        default="sqlite",
        help="the Dagster instance's run/event storage: make dev's SQLite, or production's "
        "PostgreSQL (a database of the test services' server)",
    )
    args = parser.parse_args()
    load_before = loadavg()
    with DevStack.running(BENCH_DATABASE, dagster_storage=args.dagster_storage) as stack:
        creator = Creator(stack.api_url)
        found = submissions(stack, creator, args.tries)
        # a run dequeued before its cancel holds a slot of the run queue until it has stopped
        stack.wait_until(
            "the cancelled runs to stop",
            lambda: not any(r["status"] in ACTIVE for r in stack.runs()),
            120,
        )
        rows = items_to_published(stack, creator, args.items, stack.root)
        creator.close()

    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 2)

    def p95(values: list[float]) -> float:
        return percentile(values, 0.95)

    summary = {
        "items": len(rows),
        "video_s": median("video_s"),
        "post_to_ready_s": median("to_ready_s"),
        "post_to_ready_max_s": round(max(r["to_ready_s"] for r in rows), 2),
        "run_s": median("run_s"),
        **{
            f"{name}_{label}_ms": round(value(found[key]) * 1000, 1)
            for name, key in (
                ("generate_listed", "listed"),
                ("generate_queued", "queued"),
                ("direct_submit", "direct"),
            )
            for label, value in (("p50", statistics.median), ("p95", p95))
        },
        "approve_to_published_s": median("to_published_s"),
        "approve_to_published_max_s": round(max(r["to_published_s"] for r in rows), 2),
        "publish_run_s": median("publish_run_s"),
        **{
            f"{flow}_median_s": {
                key: round(statistics.median(r[flow][key] for r in rows), 2)
                for key in rows[0][flow]
            }
            for flow in ("making", "publishing")
        },
        "dagster_storage": args.dagster_storage,
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
    }
    report(
        f"POST → ready {summary['post_to_ready_s']} s median for {summary['video_s']} s shorts "
        f"(their runs {summary['run_s']} s); generate → run listed p95 "
        f"{summary['generate_listed_p95_ms']} ms, queued p95 {summary['generate_queued_p95_ms']} "
        f"ms (direct submission p95 {summary['direct_submit_p95_ms']} ms); approve → published "
        f"{summary['approve_to_published_s']} s (publish runs {summary['publish_run_s']} s)",
        summary,
    )


if __name__ == "__main__":
    main()
