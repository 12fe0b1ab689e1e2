"""A fake Dagster webserver's GraphQL endpoint on 127.0.0.1, answering what the API sends.

It keeps dynamic partitions and runs like a Dagster instance would: ``addDynamicPartition``
(a duplicate is an error of its own), ``deleteDynamicPartitions``, ``runsOrError`` filtered
by tags, and ``launchPipelineExecution`` as ``DagsterGraphQLClient.submit_job_execution``
sends it (its location and repository must be the pipeline's, its job one the fake knows, its
partition registered). It can go down and come back on the same port, and it can refuse
submissions with a Dagster error.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from autoclip_api.dagster.client import REPOSITORY
from autoclip_core.pipeline_names import (
    CONTENT_JOB,
    CONTENT_PARTITIONS,
    PARTITION_TAG,
    PERFORMANCE_JOB,
    PUBLISH_JOB,
)

LOCATION = "autoclip"


@dataclass
class FakeRun:
    run_id: str
    job: str
    tags: dict[str, str]
    asset_selection: list[str] | None
    status: str = "QUEUED"


@dataclass
class FakeDagster:
    host: str = "127.0.0.1"
    jobs: set[str] = field(default_factory=lambda: {CONTENT_JOB, PUBLISH_JOB, PERFORMANCE_JOB})
    partitions: dict[str, list[str]] = field(default_factory=dict)
    runs: list[FakeRun] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)
    """Every operation received, in order (``addDynamicPartition``, ``launch``...)."""
    refuse_launch: str | None = None
    """Answer submissions with this error type (e.g. ``PipelineNotFoundError``)."""
    port: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def graphql_url(self) -> str:
        return f"http://{self.host}:{self.port}/graphql"

    def up(self) -> FakeDagster:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                body = json.dumps(fake.answer(request["query"], request.get("variables") or {}))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        """Stop answering: connections to the port are refused until :meth:`up`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def runs_tagged(self, key: str, value: str) -> list[FakeRun]:
        with self._lock:
            return [r for r in self.runs if r.tags.get(key) == value]

    # GraphQL ----------------------------------------------------------------------------------

    def answer(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if "addDynamicPartition(" in query:
                return {"data": {"addDynamicPartition": self._add_partition(variables)}}
            if "deleteDynamicPartitions(" in query:
                return {"data": {"deleteDynamicPartitions": self._delete_partitions(variables)}}
            if "runsOrError(" in query:
                return {"data": {"runsOrError": self._runs(variables)}}
            if "launchPipelineExecution(" in query:
                return {"data": {"launchPipelineExecution": self._launch(variables)}}
        return {"errors": [{"message": f"the fake does not know this query: {query[:80]}"}]}

    def _repository_error(self, selector: dict[str, Any]) -> dict[str, Any] | None:
        location = selector.get("repositoryLocationName")
        if location != LOCATION or selector.get("repositoryName") != REPOSITORY:
            return {"__typename": "PythonError", "message": f"no repository {location!r}"}
        return None

    def _add_partition(self, v: dict[str, Any]) -> dict[str, Any]:
        self.operations.append("addDynamicPartition")
        error = self._repository_error(v["repositorySelector"])
        if error:
            return error
        keys = self.partitions.setdefault(v["partitionsDefName"], [])
        if v["partitionKey"] in keys:
            return {
                "__typename": "DuplicateDynamicPartitionError",
                "message": f"Partition {v['partitionKey']} already exists",
            }
        keys.append(v["partitionKey"])
        return {"__typename": "AddDynamicPartitionSuccess", "partitionKey": v["partitionKey"]}

    def _delete_partitions(self, v: dict[str, Any]) -> dict[str, Any]:
        self.operations.append("deleteDynamicPartitions")
        error = self._repository_error(v["repositorySelector"])
        if error:
            return error
        keys = self.partitions.setdefault(v["partitionsDefName"], [])
        keys[:] = [k for k in keys if k not in v["partitionKeys"]]
        return {
            "__typename": "DeleteDynamicPartitionsSuccess",
            "partitionsDefName": v["partitionsDefName"],
        }

    def _runs(self, v: dict[str, Any]) -> dict[str, Any]:
        self.operations.append("runsOrError")
        wanted = {t["key"]: t["value"] for t in (v.get("filter") or {}).get("tags") or []}
        found = [r for r in self.runs if all(r.tags.get(k) == val for k, val in wanted.items())]
        return {
            "__typename": "Runs",
            "results": [{"runId": r.run_id, "status": r.status} for r in reversed(found)],
        }

    def _launch(self, v: dict[str, Any]) -> dict[str, Any]:
        self.operations.append("launch")
        if self.refuse_launch:
            return {"__typename": self.refuse_launch, "message": "refused by the fake"}
        params = v["executionParams"]
        selector = params["selector"]
        error = self._repository_error(selector)
        if error:
            return error
        if selector["pipelineName"] not in self.jobs:
            return {
                "__typename": "PipelineNotFoundError",
                "message": f"Could not find Pipeline {selector['pipelineName']}",
            }
        tags = {
            t["key"]: t["value"] for t in (params.get("executionMetadata") or {}).get("tags", [])
        }
        partition = tags.get(PARTITION_TAG)
        if partition is not None and partition not in self.partitions.get(CONTENT_PARTITIONS, []):
            return {"__typename": "PythonError", "message": f"unknown partition {partition}"}
        selection = selector.get("assetSelection")
        run = FakeRun(
            run_id=uuid.uuid4().hex,
            job=selector["pipelineName"],
            tags=tags,
            asset_selection=None if selection is None else ["/".join(a["path"]) for a in selection],
        )
        self.runs.append(run)
        return {"__typename": "LaunchRunSuccess", "run": {"runId": run.run_id}}


@contextmanager
def running_fake_dagster() -> Iterator[FakeDagster]:
    fake = FakeDagster().up()
    try:
        yield fake
    finally:
        fake.down()
