"""API latency under load, with a valid token: ``GET /api/v1/projects`` (100 projects) and
``GET /api/v1/contents?limit=50`` (1,000 content items), one after the other in the same run.

Needs PostgreSQL and Redis (``make bench-api`` starts both through
``scripts/with-test-services.sh``). Seeds one organisation with 100 projects and 1,000 items
(10 per project, from text) through the API, serves it like production (``python -m
autoclip_api serve --workers N``, ``AUTOCLIP_ENV=prod``, one worker per core by default,
``--log-level WARNING``: no log line per request), and runs wrk on loopback against each
endpoint: 50 connections for 20 s after a short warm-up. Nothing writes during the runs, so
both answers come from each worker's organisation cache after its first miss (the version
in Redis holds): what is measured is authentication, the one Redis round trip and sending
the cached bytes. Prints each run's details — among
them the server's CPU time per request (all its processes, from /proc), which depends far
less on other load on the machine than the latencies do — then as its LAST line one JSON
object: ``{"concurrency", "endpoints": {"GET <path>": {"rps", "p50_ms", "p95_ms", "p99_ms",
"errors", "server_cpu_ms", "loadavg"}}}`` (``loadavg``: the 1-minute load average before and
after that endpoint's run: other work on the machine shows there).

The general per-user limit (1200/min by default) would answer most of one user's requests
with 429, so the benchmark raises it; the limiter still runs (one Redis round trip per
request, which also reads the cache versions). wrk is installed with apt-get when missing
(as root).

    make bench-api            # or: bash scripts/with-test-services.sh .venv/bin/python bench/api.py
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import redis
from devstack import cpu_seconds, drop_database, free_port, fresh_database, loadavg, log

from autoclip_core.db.migrate import upgrade

BENCH_DATABASE = "autoclip_bench"
BENCH_REDIS_DB = 5
PROJECTS = "/api/v1/projects"
CONTENTS = "/api/v1/contents?limit=50"
ARTICLE = (
    "The harbour plan adds two ferry lines, a cycle path along the water and a small park. "
    "Work starts in the spring and should take three years; shop owners welcomed it."
)

WRK_REPORT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, ' ..
    '"timeouts": %d, "p50_us": %d, "p90_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"mean_us": %.1f, "max_us": %d, "bytes": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.mean, latency.max, summary.bytes))
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is not installed and this is not root: `apt-get install wrk` first")
    log("installing wrk (apt-get)…")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
        subprocess.run(install, env=env, check=True, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk could not be installed")
    return found


def fresh_redis(base_url: str) -> str:
    url = urlunsplit(urlsplit(base_url)._replace(path=f"/{BENCH_REDIS_DB}"))
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


def start_server(env: dict[str, str], port: int, workers: int, log_path: Path) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "autoclip_api", "serve",
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--log-level", "WARNING",
    ]  # fmt: skip
    server = subprocess.Popen(
        command,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the API exited ({server.returncode}):\n{log_path.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(server)
    sys.exit(f"the API did not become ready:\n{log_path.read_text()}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def seed(base: str, projects: int, items: int) -> str:
    """One owner, one organisation, ``projects`` projects and ``items`` content items spread
    over them — through the API itself."""
    with httpx.Client(base_url=base, timeout=30) as http:
        response = http.post(
            "/api/v1/auth/register",
            json={
                "email": "bench@example.com",
                "password": secrets.token_urlsafe(16),
                "name": "Bench",
                "org_name": "Bench Org",
            },
        )
        response.raise_for_status()
        token = str(response.json()["access_token"])
        http.headers["Authorization"] = f"Bearer {token}"
        made = []
        for i in range(projects):
            created = http.post(
                PROJECTS,
                json={
                    "name": f"Project {i:03d}",
                    "description": "Morning digest of the sources, narrated, 9:16.",
                    "language": "ko" if i % 2 else "en",
                    "timezone": "Asia/Seoul",
                },
            )
            created.raise_for_status()
            made.append(created.json()["id"])
        listed = http.get(PROJECTS).json()
        if listed["total"] != projects or len(listed["items"]) != projects:
            sys.exit(f"seeding failed: {listed['total']} projects listed")

        def item(n: int) -> None:
            body = {"project_id": made[n % projects], "title": f"Story {n:04d}", "text": ARTICLE}
            http.post("/api/v1/contents", json=body).raise_for_status()

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(item, range(items)))
        counted, params = 0, {"limit": 200}
        while True:
            page = http.get("/api/v1/contents", params=params).json()
            counted += len(page["items"])
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
        if counted != items:
            sys.exit(f"seeding failed: {counted} content items listed")
    return token


def run_wrk(
    wrk: str, url: str, token: str, *, connections: int, threads: int, seconds: int, script: Path
) -> dict[str, float]:
    command = [
        wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
        "-s", str(script), "-H", f"Authorization: Bearer {token}", url,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    match = re.search(r"^WRK_JSON (.*)$", result.stdout, re.MULTILINE)
    if match is None:
        sys.exit(f"wrk printed no report:\n{result.stdout}\n{result.stderr}")
    return dict(json.loads(match.group(1)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=20, help="seconds measured")
    parser.add_argument("--warmup", type=int, default=3, help="seconds before measuring")
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--items", type=int, default=1000, help="content items")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--wrk-threads", type=int, default=1)
    args = parser.parse_args()

    pg = os.environ.get("AUTOCLIP_TEST_POSTGRES_URL")
    redis_base = os.environ.get("AUTOCLIP_TEST_REDIS_URL")
    if not pg or not redis_base:
        sys.exit("needs PostgreSQL and Redis: run `make bench-api`")
    wrk = ensure_wrk()
    database_url = fresh_database(pg, BENCH_DATABASE)
    upgrade(database_url)
    redis_url = fresh_redis(redis_base)
    port = free_port()
    results = {}
    with tempfile.TemporaryDirectory(prefix="autoclip-bench-api-") as root:
        env = {
            **os.environ,
            "AUTOCLIP_ENV": "prod",
            "AUTOCLIP_DATA_DIR": root,
            "AUTOCLIP_DATABASE_URL": database_url,
            "AUTOCLIP_REDIS_URL": redis_url,
            "AUTOCLIP_JWT_SECRET": secrets.token_urlsafe(48),
            "AUTOCLIP_CHANNEL_TOKEN_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "AUTOCLIP_API_RATE_LIMIT_PER_MINUTE": "100000000",
        }
        script = Path(root) / "report.lua"
        script.write_text(WRK_REPORT)
        server = start_server(env, port, args.workers, Path(root) / "api.log")
        try:
            base = f"http://127.0.0.1:{port}"
            token = seed(base, args.projects, args.items)
            log(
                f"{args.projects} projects, {args.items} content items; {args.workers} uvicorn "
                f"workers, wrk {args.wrk_threads} thread(s), {args.connections} connections"
            )
            for endpoint in (PROJECTS, CONTENTS):
                run = {"connections": args.connections, "threads": args.wrk_threads}
                run_wrk(wrk, base + endpoint, token, seconds=args.warmup, script=script, **run)
                cpu_before, load_before = cpu_seconds(server.pid), loadavg()[0]
                report = run_wrk(
                    wrk, base + endpoint, token, seconds=args.duration, script=script, **run
                )
                server_cpu = cpu_seconds(server.pid) - cpu_before
                results[f"GET {endpoint}"] = {
                    **summarise(endpoint, report, server_cpu),
                    "loadavg": [load_before, loadavg()[0]],
                }
        finally:
            stop_server(server)
            drop_database(pg, BENCH_DATABASE)
    print(json.dumps({"concurrency": args.connections, "endpoints": results}), flush=True)


def summarise(endpoint: str, report: dict[str, float], server_cpu: float) -> dict[str, float]:
    """Logs a run's details; its figures for the JSON line."""
    seconds = report["duration_us"] / 1e6
    mean_ms = report["mean_us"] / 1000
    log(
        f"GET {endpoint}: {int(report['requests'])} requests in {seconds:.1f} s; p50 "
        f"{report['p50_us'] / 1000:.1f} ms, p95 {report['p95_us'] / 1000:.1f} ms, mean "
        f"{mean_ms:.1f} ms, p90 {report['p90_us'] / 1000:.1f} ms, max "
        f"{report['max_us'] / 1000:.1f} ms; "
        f"{report['bytes'] / report['requests'] / 1024:.1f} KiB per response; "
        f"non-2xx {int(report['non_2xx'])}, timeouts {int(report['timeouts'])}; "
        f"server CPU {server_cpu * 1000 / report['requests']:.3f} ms per request; load "
        f"average {loadavg()}"
    )
    return {
        "rps": round(report["requests"] / seconds, 1),
        "p50_ms": round(report["p50_us"] / 1000, 2),
        "p95_ms": round(report["p95_us"] / 1000, 2),
        "p99_ms": round(report["p99_us"] / 1000, 2),
        "errors": int(report["errors"]),
        "server_cpu_ms": round(server_cpu * 1000 / report["requests"], 3),
    }


if __name__ == "__main__":
    main()
