"""The whole product over HTTP, as ``make dev`` runs it: the API (``python -m autoclip_api
serve``), a real Dagster webserver and daemon (temporary DAGSTER_HOME with the repository's
dagster.yaml, SQLite instance) and PostgreSQL for the app database, each a process of its own
started with ``autoclip dev``'s commands. A creator's text becomes a short that is reviewed,
approved and published; a failing generation says why; a repeated request starts one run;
a request made while the webserver is down and the API then killed still runs exactly once.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import create_engine, text

from autoclip_cli.dev import Stack, Supervisor, prepare_dagster_home
from autoclip_core.db.models import Base
from autoclip_core.pipeline_names import CONTENT_JOB, PARTITION_TAG, PUBLISH_JOB, REQUEST_TAG
from autoclip_core.settings import Settings
from tests.api.conftest import FAST_HASHING, JWT_SECRET
from tests.api.contents_setup import ARTICLE
from tests.api.helpers import PASSWORD
from tests.api.live_server import free_port

T = TypeVar("T")
START_TIMEOUT_S = 180.0
RUN_TIMEOUT_S = 240.0
BLOCKED = "ferry"

RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId jobName status tags { key value } } }
  }
}
"""


@dataclass
class Processes:
    """The stack's processes, each startable, stoppable and killable on its own."""

    stack: Stack
    env: dict[str, str]
    logs: Path
    running: dict[str, Supervisor] = field(default_factory=dict)

    def commands(self) -> dict[str, list[str]]:
        return {
            "dagster-code-server": self.stack.code_server(),
            "api": self.stack.api(),
            **dict(self.stack.services()),
        }

    def start(self, name: str) -> None:
        supervisor = Supervisor(self.env, grace_seconds=8.0)
        with (self.logs / f"{name}.log").open("ab") as log:
            supervisor.start(name, self.commands()[name], stdout=log, stderr=log)
        self.running[name] = supervisor

    def stop(self, name: str, *, kill: bool = False) -> None:
        self.running.pop(name).stop(signal.SIGKILL if kill else None)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
            for log in sorted(self.logs.glob("*.log"))
        )

    def runs(self, **tags: str) -> list[dict[str, Any]]:
        """Dagster's runs with all these tags, newest first."""
        selector = [{"key": key, "value": value} for key, value in tags.items()]
        found = self.stack.graphql(RUNS, filter={"tags": selector})["runsOrError"]
        assert found["__typename"] == "Runs", found
        return list(found["results"])

    def wait_for(self, what: str, probe: Callable[[], T | None], timeout: float) -> T:
        """``probe()``'s first answer that is not None, while every process keeps running."""
        deadline = time.monotonic() + timeout
        while (found := probe()) is None:
            for name, supervisor in self.running.items():
                ended = supervisor.exited()
                assert ended is None, f"{name} exited ({ended}):\n{self.log_tail()}"
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: not within {timeout:.0f} s\n{self.log_tail()}")
            time.sleep(0.5)
        return found

    def wait_ready(self) -> None:
        """The API reaches its database and the webserver has the pipeline's code loaded."""
        self.wait_for("the stack", lambda: self.stack.ready() or None, START_TIMEOUT_S)


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory, pg_database: str) -> Iterator[Processes]:
    """The stack on the API tests' PostgreSQL database, emptied first: nothing another test
    left there (sources to poll, drafts of a daily batch) reaches the daemon."""
    engine = create_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(Base.metadata.tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    root = tmp_path_factory.mktemp("e2e")
    settings = Settings(data_dir=root / "data", api_port=free_port(), dagster_port=free_port())
    prepare_dagster_home(settings)
    stack = Stack(settings)
    base = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCLIP_")}
    env = stack.env(base) | {
        "AUTOCLIP_ENV": "test",
        "AUTOCLIP_DATABASE_URL": pg_database,
        "AUTOCLIP_JWT_SECRET": JWT_SECRET,
        "AUTOCLIP_METRICS_PORT": "0",
        "AUTOCLIP_DAGSTER_SUBMIT_INTERVAL_SECONDS": "1",
        **{f"AUTOCLIP_{k.upper()}": str(v) for k, v in FAST_HASHING.items()},
    }
    logs = root / "logs"
    logs.mkdir()
    running = Processes(stack, env, logs)
    with (logs / "migrate.log").open("ab") as log:  # both at once: they are independent
        steps = [
            Supervisor(env).start(name, command, stdout=log, stderr=log)
            for name, command, _ in stack.migrations()
        ]
        for step in steps:
            assert step.wait(120) == 0, (logs / "migrate.log").read_text()
    try:
        running.start("dagster-code-server")
        running.start("api")
        running.wait_for("the code server", lambda: running.stack.code_ready() or None, 120)
        for name, _ in stack.services():
            running.start(name)
        running.wait_ready()
        yield running
    finally:
        running.stop_all()


@dataclass
class Creator:
    http: httpx.Client

    def call(self, method: str, path: str, expect: int, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, f"/api/v1{path}", **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.text}"
        return response

    def item(self, item_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/contents/{item_id}", 200).json())

    def jobs(self, item_id: str) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/contents/{item_id}/jobs", 200).json()["items"])


@pytest.fixture
def creator(processes: Processes) -> Iterator[Creator]:
    """A new account (its own organisation), signed in."""
    with httpx.Client(base_url=processes.stack.api_url, timeout=30) as http:
        email = f"creator-{time.monotonic_ns()}@example.com"
        registered = Creator(http).call(
            "POST",
            "/auth/register",
            201,
            json={"email": email, "password": PASSWORD, "name": "Creator", "org_name": "Studio"},
        )
        http.headers["Authorization"] = f"Bearer {registered.json()['access_token']}"
        yield Creator(http)


def small_template(creator: Creator) -> str:
    """The built-in short at a quarter of its pixels, stored as the organisation's own: the
    same pipeline and render path, a quarter of the encoding time."""
    source = creator.call("GET", "/templates/short", 200).json()["source"]
    source |= {"width": 540, "height": 960}
    created = creator.call("POST", "/templates", 201, json={"name": "Small", "source": source})
    assert created.json()["pipeline_ready"] is True
    return str(created.json()["id"])


def project_with_channel(creator: Creator, **settings: Any) -> str:
    """A project rendering with the small template, with one local channel."""
    body = {"name": "Harbour news", "template_id": small_template(creator), **settings}
    project = creator.call("POST", "/projects", 201, json=body).json()
    creator.call(
        "POST", f"/projects/{project['id']}/channels", 201,
        json={"platform": "local", "name": "Site"},
    )  # fmt: skip
    return str(project["id"])


def wait_state(
    processes: Processes, creator: Creator, item_id: str, states: set[str]
) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        item = creator.item(item_id)
        return item if item["state"] in states else None

    return processes.wait_for(f"item {item_id} in {states}", reached, RUN_TIMEOUT_S)


def test_a_text_becomes_a_short_that_is_reviewed_approved_and_published(
    processes: Processes, creator: Creator
) -> None:
    project_id = project_with_channel(creator, review_required=True)
    item = creator.call(
        "POST", "/contents", 201, json={"project_id": project_id, "text": ARTICLE}
    ).json()
    assert item["state"] == "draft"

    key = {"Idempotency-Key": f"generate-{item['id']}"}
    job = creator.call("POST", f"/contents/{item['id']}/generate", 202, headers=key).json()
    again = creator.call("POST", f"/contents/{item['id']}/generate", 202, headers=key).json()
    assert again["id"] == job["id"]

    ready = wait_state(processes, creator, item["id"], {"ready", "failed"})
    assert ready["state"] == "ready", ready["state_reason"]
    assert ready["review"]["required"] is True
    assert ready["script"] is not None
    assert {a["step"]: a["state"] for a in ready["assets"]}["video"] == "succeeded"
    runs = processes.runs(**{PARTITION_TAG: item["id"]})
    assert [r["jobName"] for r in runs] == [CONTENT_JOB]  # the retried request: one run
    assert runs[0]["status"] == "SUCCESS"
    [done] = creator.jobs(item["id"])
    assert (done["id"], done["run_id"], done["state"]) == (job["id"], runs[0]["runId"], "completed")
    assert done["run_url"].startswith(processes.stack.dagster_url)

    video = creator.call(
        "GET", f"/contents/{item['id']}/media/video", 206, headers={"Range": "bytes=0-1023"}
    )
    assert video.headers["content-type"] == "video/mp4"
    assert video.headers["content-range"].startswith("bytes 0-1023/")
    assert len(video.content) == 1024
    assert video.content[4:8] == b"ftyp"
    assert int(video.headers["content-range"].rsplit("/", 1)[1]) > 100_000

    approved = creator.call("POST", f"/contents/{item['id']}/approve", 200, json={}).json()
    assert approved["publication"] is not None
    published = wait_state(processes, creator, item["id"], {"published", "failed_upload"})
    assert published["state"] == "published", published["state_reason"]
    [upload] = creator.call("GET", f"/contents/{item['id']}/uploads", 200).json()["items"]
    assert upload["state"] == "published"
    assert upload["url"]
    assert {r["jobName"] for r in processes.runs(**{PARTITION_TAG: item["id"]})} == {
        CONTENT_JOB,
        PUBLISH_JOB,
    }


def test_a_request_made_while_dagster_is_down_runs_once_after_the_api_is_killed_and_fails_with_the_checks_reason(  # noqa: E501
    processes: Processes, creator: Creator
) -> None:
    """Committed, not submitted (the webserver is down), the API killed: the next API process
    submits it once the webserver is back, and there is exactly one run. The project blocks a
    term of the text, so the run is short and ends ``failed`` with the safety check's reason."""
    project_id = project_with_channel(creator, blocked_terms=[BLOCKED])
    item = creator.call(
        "POST", "/contents", 201, json={"project_id": project_id, "text": ARTICLE}
    ).json()
    processes.stop("dagster-webserver")

    job = creator.call("POST", f"/contents/{item['id']}/generate", 202).json()
    assert (job["state"], job["run_id"]) == ("pending", None)

    processes.wait_for(
        "the submission to fail", lambda: creator.jobs(item["id"])[0]["submit_error"], 30
    )
    processes.stop("api", kill=True)
    processes.start("dagster-webserver")
    processes.start("api")
    processes.wait_ready()

    run_id = processes.wait_for(
        "the request to reach Dagster", lambda: creator.jobs(item["id"])[0]["run_id"], 60
    )
    runs = processes.runs(**{REQUEST_TAG: job["id"]})
    assert [r["runId"] for r in runs] == [run_id]
    assert processes.runs(**{PARTITION_TAG: item["id"]}) == runs
    failed = wait_state(processes, creator, item["id"], {"ready", "failed"})
    assert failed["state"] == "failed"
    assert f'blocked_term: "{BLOCKED}"' in failed["state_reason"], failed["state_reason"]
    [ended] = creator.jobs(item["id"])
    assert ended["state"] == "failed"
    assert BLOCKED in ended["error"]
    assert len(processes.runs(**{PARTITION_TAG: item["id"]})) == 1
