"""The API against a real ``dagster-webserver`` (temporary DAGSTER_HOME, SQLite instance): a
generate request registers the item's partition and creates a ``content_job`` run of it with
the request's tags and the asset selection of its ``from``.

No daemon runs, and the instance queues runs (``QueuedRunCoordinator``): the runs are created
and stay queued, which is all this proves; the end-to-end test runs them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from autoclip_api.dagster.client import DagsterClient
from autoclip_core.pipeline_names import (
    CONTENT_JOB,
    CONTENT_PARTITIONS,
    GENERATE_FROM,
    PARTITION_TAG,
    REQUEST_TAG,
)
from tests.api.conftest import client_for
from tests.api.contents_setup import new_item, pipeline_made, studio
from tests.api.helpers import ApiClient

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 120.0

pytestmark = pytest.mark.anyio

INSTANCE = """
telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
"""

RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId jobName status tags { key value } assetSelection { path } assetCheckSelection { name }
    }
  }
}
"""

PARTITIONS = """
query Partitions($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    ... on Repository { partitionSets { name partitionsOrError { ... on Partitions {
      results { name } } } } }
  }
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dagster-webserver serving the pipeline's code location; its GraphQL URL."""
    executable = Path(sys.executable).parent / "dagster-webserver"
    if not executable.exists():
        pytest.skip("dagster-webserver is not installed")
    home = tmp_path_factory.mktemp("dagster-home")
    (home / "dagster.yaml").write_text(INSTANCE)
    data = tmp_path_factory.mktemp("data")
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "AUTOCLIP_DATA_DIR": str(data)}
    process = subprocess.Popen(
        [str(executable), "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        wait_until_loaded(url, process)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        shutil.rmtree(home, ignore_errors=True)


def wait_until_loaded(url: str, process: subprocess.Popen[bytes]) -> None:
    """Until the code location answers with the pipeline's jobs (~15 s on 2 cores)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    query = "{ repositoriesOrError { ... on RepositoryConnection { nodes { jobs { name } } } } }"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"dagster-webserver exited with {process.returncode}: {stderr[-2000:]}")
        try:
            body = httpx.post(url, json={"query": query}, timeout=5).json()
            nodes = body["data"]["repositoriesOrError"].get("nodes") or []
            if any(job["name"] == CONTENT_JOB for node in nodes for job in node["jobs"]):
                return
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            pass
        time.sleep(0.5)
    pytest.fail(f"dagster-webserver not ready within {READY_TIMEOUT_S:.0f} s")


def graphql(url: str, query: str, **variables: Any) -> dict[str, Any]:
    body = httpx.post(url, json={"query": query, "variables": variables}, timeout=30).json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def partition_keys(url: str) -> set[str]:
    selector = {"repositoryLocationName": "autoclip", "repositoryName": "__repository__"}
    repository = graphql(url, PARTITIONS, selector=selector)["repositoryOrError"]
    return {
        partition["name"]
        for partition_set in repository["partitionSets"]
        for partition in (partition_set["partitionsOrError"].get("results") or [])
    }


@pytest.fixture
def real_app(app_factory: Callable[..., FastAPI], webserver: str) -> FastAPI:
    return app_factory(dagster_graphql_url=webserver, dagster_submit_interval_seconds=0)


async def test_generate_really_creates_a_tagged_run_of_the_items_partition(
    real_app: FastAPI, webserver: str
) -> None:
    async with client_for(real_app) as http:
        api = ApiClient(http)
        s = await studio(api)
        item = await new_item(api, s.owner, s.project_id)
        response = await api.post(
            f"/api/v1/contents/{item['id']}/generate", headers=s.owner.headers
        )
        assert response.status_code == 202, response.text
        [job] = (
            await api.get(f"/api/v1/contents/{item['id']}/jobs", headers=s.owner.headers)
        ).json()["items"]
        assert job["run_id"] is not None, job["submit_error"]

        run = graphql(webserver, RUN, runId=job["run_id"])["runOrError"]
        assert run["__typename"] == "Run"
        tags = {t["key"]: t["value"] for t in run["tags"]}
        assert run["jobName"] == CONTENT_JOB
        assert tags[PARTITION_TAG] == item["id"]
        assert tags[REQUEST_TAG] == job["id"]
        assert run["status"] == "QUEUED"
        assert item["id"] in partition_keys(webserver)

        # a retry of the submission finds that run instead of starting another
        client = DagsterClient(webserver, "autoclip")
        assert client.run_with_tag(REQUEST_TAG, job["id"]) == job["run_id"]

        pipeline_made(real_app, item["id"])
        again = await api.post(
            f"/api/v1/contents/{item['id']}/generate",
            json={"from": "narration"},
            headers=s.owner.headers,
        )
        assert again.status_code == 202, again.text
        latest = (
            await api.get(f"/api/v1/contents/{item['id']}/jobs", headers=s.owner.headers)
        ).json()["items"][0]
        assert latest["id"] == again.json()["id"]
        rerun = graphql(webserver, RUN, runId=latest["run_id"])["runOrError"]
        selected = {"/".join(a["path"]) for a in rerun["assetSelection"]}
        assert selected == set(GENERATE_FROM["narration"])
        assert rerun["assetCheckSelection"] is None  # every check of the selected assets runs

        deleted = await api.delete(f"/api/v1/contents/{item['id']}", headers=s.owner.headers)
        assert deleted.status_code == 409  # its runs are queued: still active
        client.delete_partition(CONTENT_PARTITIONS, "unused-key")
        client.close()
