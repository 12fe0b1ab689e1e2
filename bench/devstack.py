"""What the benches share: a fresh PostgreSQL database; for the flow benches, the ``make dev``
stack (``autoclip dev``: Dagster webserver, daemon and the API) on it, the sample articles made
distinct, and a creator's calls to the API.

Needs PostgreSQL (``make bench-flow`` / ``make bench-batch`` start it through
``scripts/with-test-services.sh``).
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import create_engine, make_url, text

from autoclip_cli.dev import DAGSTER_YAML, Stack, free_port
from autoclip_core.feeds import SAMPLE_FEED, read_feed
from autoclip_core.render.probe import probe
from autoclip_core.settings import Settings

START_TIMEOUT_S = 240.0
RUN_TIMEOUT_S = 1800.0
STOP_TIMEOUT_S = 15.0
DAGSTER_STORAGES = ("sqlite", "postgres")
RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs {
      results { runId jobName status creationTime startTime endTime tags { key value } }
    }
  }
}
"""

EVENTS = """
query Events($runId: ID!, $cursor: String) {
  logsForRun(runId: $runId, afterCursor: $cursor, limit: 1000) {
    ... on EventConnection {
      cursor hasMore events { ... on MessageEvent { timestamp eventType } }
    }
  }
}
"""
PHASE_EVENTS = {
    "RUN_ENQUEUED": "enqueued",
    "RUN_STARTING": "dequeued",  # the daemon dequeues it: starting
    "RUN_START": "started",
    "RUN_SUCCESS": "ended",
    "RUN_FAILURE": "ended",
}


@dataclass(frozen=True)
class RunPhases:
    """Where a run's time went, from its event log (seconds)."""

    submit_s: float
    """Created → queued: the rest of the submission, in the webserver."""
    queue_s: float
    """Queued → dequeued by the daemon (its interval, and the run queue's limits)."""
    launch_s: float
    """Dequeued → started: a run worker process starts and loads the pipeline."""
    steps_s: float
    """Started → ended: the run's steps."""
    ended_at: float
    """When it ended (the epoch)."""

    def __str__(self) -> str:
        return (
            f"submit {self.submit_s:.1f} s, queue {self.queue_s:.1f} s, launch "
            f"{self.launch_s:.1f} s, steps {self.steps_s:.1f} s"
        )


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def loadavg() -> list[float]:
    """The 1-, 5- and 15-minute load averages (other work on the machine shows there)."""
    return [round(x, 2) for x in os.getloadavg()]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of ``pid`` and all its descendants, those that have exited and
    were waited for included (a process's children's times count once they are reaped)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = [  # each thread's: a code server starts runs from its worker threads
                child
                for thread in Path(f"/proc/{current}/task").iterdir()
                for child in (thread / "children").read_text().split()
            ]
        except OSError:  # gone, or no /proc: the figure is then a lower bound
            continue
        total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        pending.extend(int(child) for child in children)
    return total


def log(message: str) -> None:
    print(message, flush=True)


def report(line: str, summary: dict[str, Any]) -> None:
    """The bench's result: a line for people, then the JSON object (always the last line)."""
    log(line)
    print(json.dumps(summary), flush=True)


def fresh_database(base_url: str, name: str) -> str:
    """An empty database ``name`` on the server of ``base_url`` (its URL); not migrated."""
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_database(base_url: str, name: str) -> None:
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def _psycopg2(url: str) -> str:
    """``url`` with the driver dagster-postgres ships (SQLAlchemy 2.1 defaults postgresql:// to
    psycopg 3)."""
    return make_url(url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)


def postgres_url() -> str:
    url = os.environ.get("AUTOCLIP_TEST_POSTGRES_URL")
    if not url:
        sys.exit("needs PostgreSQL: run it through `make bench-flow` / `make bench-batch`")
    return url


def articles(count: int) -> list[tuple[str, str]]:
    """``count`` distinct (title, text) pairs from the sample feed's articles (~45 s shorts):
    past the first round, every number in the text is shifted, so no two items share a script,
    narration or render (the media store is content-addressed)."""
    items = read_feed(str(SAMPLE_FEED), project="bench")
    chosen = []
    for n in range(count):
        item = items[n % len(items)]
        shift = n // len(items)
        title = item.title if shift == 0 else f"{item.title} ({shift + 1})"
        chosen.append((title, _shift_numbers(item.text, shift)))
    return chosen


def _shift_numbers(article: str, shift: int) -> str:
    def shifted(match: re.Match[str]) -> str:
        digits = match.group(0)
        value = int(digits.replace(",", "")) + shift
        return f"{value:,}" if "," in digits else str(value)

    return re.sub(r"\d[\d,]*\d|\d", shifted, article) if shift else article


@dataclass
class DevStack:
    stack: Stack
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def root(self) -> Path:
        """A folder of the run's own (the stack's data dir is inside), deleted at the end."""
        return self.log_path.parent

    @property
    def api_url(self) -> str:
        return self.stack.api_url

    @property
    def dagster_url(self) -> str:
        return self.stack.dagster_url

    @classmethod
    @contextmanager
    def running(
        cls,
        name: str,
        *,
        max_concurrent_runs: int | None = None,
        dagster_storage: str = "sqlite",
    ) -> Iterator[DevStack]:
        """``autoclip dev`` with its state in a temporary folder and a fresh PostgreSQL database
        ``name`` (dropped at the end) as the app database; the instance's run queue limit
        overridden when given. ``dagster_storage``: the instance's run, event and schedule
        storage, ``sqlite`` (``make dev``'s, files in the instance folder) or ``postgres``
        (production's) in a fresh database ``<name>_dagster`` of the same server."""
        if dagster_storage not in DAGSTER_STORAGES:
            raise ValueError(f"dagster_storage: one of {DAGSTER_STORAGES}, not {dagster_storage}")
        base_url = postgres_url()
        databases = [name] + ([f"{name}_dagster"] if dagster_storage == "postgres" else [])
        urls = [fresh_database(base_url, database) for database in databases]
        dagster_url = _psycopg2(urls[1]) if urls[1:] else None
        try:
            with tempfile.TemporaryDirectory(prefix=f"{name}-") as root:
                with cls._started(Path(root), urls[0], max_concurrent_runs, dagster_url) as stack:
                    yield stack
        finally:
            for database in databases:
                drop_database(base_url, database)

    @classmethod
    @contextmanager
    def _started(
        cls,
        root: Path,
        database_url: str,
        max_concurrent_runs: int | None,
        dagster_url: str | None,
    ) -> Iterator[DevStack]:
        settings = Settings(data_dir=root / "data", api_port=free_port(), dagster_port=free_port())
        home = settings.dagster_home
        home.mkdir(parents=True)
        instance = yaml.safe_load(DAGSTER_YAML.read_text())
        if max_concurrent_runs is not None:
            instance["concurrency"]["runs"]["max_concurrent_runs"] = max_concurrent_runs
        (home / "dagster.yaml").write_text(yaml.safe_dump(instance))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCLIP_")}
        env |= {
            "AUTOCLIP_DATA_DIR": str(settings.root),
            "AUTOCLIP_DATABASE_URL": database_url,
            "AUTOCLIP_JWT_SECRET": secrets.token_urlsafe(48),
            "AUTOCLIP_METRICS_PORT": "0",
            "AUTOCLIP_FEEDS": "",
        }
        if dagster_url is not None:  # autoclip dev puts the instance's storage there
            env["AUTOCLIP_DAGSTER_POSTGRES_URL"] = dagster_url
        log_path = root / "dev.log"
        command = [
            str(Path(sys.executable).with_name("autoclip")), "dev",
            "--api-port", str(settings.api_port), "--dagster-port", str(settings.dagster_port),
        ]  # fmt: skip
        with log_path.open("wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        stack = cls(Stack(settings), process, log_path)
        try:
            started = time.monotonic()
            stack.wait_until("the stack", stack.stack.ready, START_TIMEOUT_S)
            log(f"stack up in {time.monotonic() - started:.1f} s ({root})")
            yield stack
        finally:
            stack.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def wait_until(self, what: str, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if self.process.poll() is not None:
                sys.exit(f"{self.log_tail()}\nautoclip dev exited ({self.process.returncode})")
            if time.monotonic() > deadline:
                statuses = [f"{r['jobName']} {r['status']}" for r in self.runs()]
                sys.exit(f"{self.log_tail()}\n{what}: not within {timeout:.0f} s; runs: {statuses}")
            time.sleep(0.2)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        return self.stack.graphql(query, **variables)

    def phases(self, run: dict[str, Any]) -> RunPhases:
        """``run`` (a record of :meth:`runs`) split into its phases, once it has ended (an
        item can show its outcome a moment before: a publication step records it)."""
        at: dict[str, float] = {}

        def ended() -> bool:
            at.update(self._phase_times(run))
            return "ended" in at

        self.wait_until(f"the end of run {run['runId']}", ended, RUN_TIMEOUT_S)
        return RunPhases(
            submit_s=at["enqueued"] - at["created"],
            queue_s=at["dequeued"] - at["enqueued"],
            launch_s=at["started"] - at["dequeued"],
            steps_s=at["ended"] - at["started"],
            ended_at=at["ended"],
        )

    def _phase_times(self, run: dict[str, Any]) -> dict[str, float]:
        """When ``run`` was created and reached each phase so far (epoch seconds)."""
        at: dict[str, float] = {"created": float(run["creationTime"])}
        cursor = None
        while True:
            page = self.graphql(EVENTS, runId=run["runId"], cursor=cursor)["logsForRun"]
            for event in page["events"]:
                name = PHASE_EVENTS.get(event.get("eventType") or "")
                if name is not None:
                    at.setdefault(name, int(event["timestamp"]) / 1000)
            if not page["hasMore"]:
                return at
            cursor = page["cursor"]

    def runs(self, **tags: str) -> list[dict[str, Any]]:
        """Dagster's runs with all these tags (every run: none given)."""
        where = {"tags": [{"key": key, "value": value} for key, value in tags.items()]}
        return list(self.graphql(RUNS, filter=where)["runsOrError"]["results"])


class Creator:
    """An account of its own (an organisation) calling the API, from several threads at once;
    its access token is renewed when it expires (a batch outlasts one)."""

    def __init__(self, api_url: str) -> None:
        self.http = httpx.Client(base_url=f"{api_url}/api/v1", timeout=60)
        self.renewing = threading.Lock()
        registered = self.http.post(
            "/auth/register",
            json={"email": "bench@example.com", "password": secrets.token_urlsafe(16),
                  "name": "Bench", "org_name": "Bench Studio"},
        )  # fmt: skip
        registered.raise_for_status()
        self._use(registered.json())

    def _use(self, tokens: dict[str, Any]) -> None:
        self.refresh_token = str(tokens["refresh_token"])
        self.http.headers["Authorization"] = f"Bearer {tokens['access_token']}"

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        sent = self.http.headers["Authorization"]
        response = self.http.request(method, path, **kwargs)
        if response.status_code != 401:
            return response
        with self.renewing:  # a refresh token is good once: one thread renews
            if self.http.headers["Authorization"] == sent:
                renewed = self.http.post(
                    "/auth/refresh", json={"refresh_token": self.refresh_token}
                )
                renewed.raise_for_status()
                self._use(renewed.json())
        return self.http.request(method, path, **kwargs)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if response.is_error:
            sys.exit(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def project(self, **settings: Any) -> str:
        """A project with one local channel."""
        project_id = str(self.call("POST", "/projects", json={"name": "Bench", **settings})["id"])
        self.call(
            "POST", f"/projects/{project_id}/channels", json={"platform": "local", "name": "Site"}
        )
        return project_id

    def create(self, project_id: str, title: str, article: str) -> str:
        body = {"project_id": project_id, "title": title, "text": article}
        return str(self.call("POST", "/contents", json=body)["id"])

    def generate(self, item_id: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/contents/{item_id}/generate"))

    def state(self, item_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/contents/{item_id}"))

    def wait_state(self, stack: DevStack, item_id: str, states: set[str]) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        def reached() -> bool:
            seen.update(self.state(item_id))
            return seen["state"] in states

        stack.wait_until(f"item {item_id} in {states}", reached, RUN_TIMEOUT_S)
        return seen

    def video_seconds(self, item_id: str, folder: Path) -> float:
        """The duration of the item's video (downloaded through the API into ``folder``)."""
        path = folder / f"{item_id}.mp4"
        path.write_bytes(self.request("GET", f"/contents/{item_id}/media/video").content)
        return probe(path).duration

    def close(self) -> None:
        self.http.close()
