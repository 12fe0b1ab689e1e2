"""The API's one way to Dagster: its webserver's GraphQL endpoint (no Dagster code here).

Runs are submitted with ``dagster_graphql.DagsterGraphQLClient.submit_job_execution`` (which
passes an asset selection through); what that client has no method for — registering and
removing a dynamic partition, finding a run by tag — are plain GraphQL documents sent to the
same endpoint. Every failure is one of two kinds: :class:`DagsterUnavailable` (the webserver
could not be reached or answered 5xx: try again later) or :class:`DagsterRefused` (it
answered, and said no).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    from dagster_graphql import DagsterGraphQLClient

REPOSITORY = "__repository__"
"""The repository name Dagster gives a code location's ``Definitions``."""

ADD_DYNAMIC_PARTITION = """
mutation AddDynamicPartition(
  $repositorySelector: RepositorySelector!, $partitionsDefName: String!, $partitionKey: String!
) {
  addDynamicPartition(
    repositorySelector: $repositorySelector,
    partitionsDefName: $partitionsDefName,
    partitionKey: $partitionKey
  ) {
    __typename
    ... on AddDynamicPartitionSuccess { partitionKey }
    ... on DuplicateDynamicPartitionError { message }
    ... on UnauthorizedError { message }
    ... on PythonError { message }
  }
}
"""

DELETE_DYNAMIC_PARTITIONS = """
mutation DeleteDynamicPartitions(
  $repositorySelector: RepositorySelector!, $partitionsDefName: String!, $partitionKeys: [String!]!
) {
  deleteDynamicPartitions(
    repositorySelector: $repositorySelector,
    partitionsDefName: $partitionsDefName,
    partitionKeys: $partitionKeys
  ) {
    __typename
    ... on DeleteDynamicPartitionsSuccess { partitionsDefName }
    ... on UnauthorizedError { message }
    ... on UnsupportedOperationError { message }
    ... on PythonError { message }
  }
}
"""

RUNS_WITH_TAG = """
query RunsWithTag($filter: RunsFilter) {
  runsOrError(filter: $filter, limit: 1) {
    __typename
    ... on Runs { results { runId status } }
    ... on InvalidPipelineRunsFilterError { message }
    ... on PythonError { message }
  }
}
"""


class DagsterError(Exception):
    pass


class DagsterUnavailable(DagsterError):
    """The webserver could not be reached, timed out or failed (5xx): try again later."""


class DagsterRefused(DagsterError):
    """The webserver answered with an error of its own (unknown job, invalid selection...)."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    host: str
    port: int | None
    https: bool
    path_prefix: str

    @classmethod
    def parse(cls, graphql_url: str) -> Endpoint:
        parts = urlsplit(graphql_url)
        if not parts.hostname or not parts.path.endswith("/graphql"):
            raise ValueError(f"not a Dagster GraphQL URL: {graphql_url!r}")
        return cls(
            url=graphql_url,
            host=parts.hostname,
            port=parts.port,
            https=parts.scheme == "https",
            path_prefix=parts.path.removesuffix("/graphql").rstrip("/"),
        )


class DagsterClient:
    """Submits and finds runs of the pipeline's code location (``location``)."""

    def __init__(self, graphql_url: str, location: str, *, timeout: float = 20.0) -> None:
        self.endpoint = Endpoint.parse(graphql_url)
        self.location = location
        self.timeout = timeout
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=3.0))

    @property
    def repository_selector(self) -> dict[str, str]:
        return {"repositoryLocationName": self.location, "repositoryName": REPOSITORY}

    # what the GraphQL client has no method for ------------------------------------------------

    def add_partition(self, partitions_def: str, key: str) -> None:
        """Register ``key`` in the dynamic partitions (already there is fine)."""
        result = self._query(
            ADD_DYNAMIC_PARTITION,
            {
                "repositorySelector": self.repository_selector,
                "partitionsDefName": partitions_def,
                "partitionKey": key,
            },
        )["addDynamicPartition"]
        if result["__typename"] not in (
            "AddDynamicPartitionSuccess",
            "DuplicateDynamicPartitionError",
        ):
            raise DagsterRefused(_message("addDynamicPartition", result))

    def delete_partition(self, partitions_def: str, key: str) -> None:
        result = self._query(
            DELETE_DYNAMIC_PARTITIONS,
            {
                "repositorySelector": self.repository_selector,
                "partitionsDefName": partitions_def,
                "partitionKeys": [key],
            },
        )["deleteDynamicPartitions"]
        if result["__typename"] != "DeleteDynamicPartitionsSuccess":
            raise DagsterRefused(_message("deleteDynamicPartitions", result))

    def run_with_tag(self, key: str, value: str) -> str | None:
        """The id of a run tagged ``key=value``, if there is one."""
        result = self._query(RUNS_WITH_TAG, {"filter": {"tags": [{"key": key, "value": value}]}})[
            "runsOrError"
        ]
        if result["__typename"] != "Runs":
            raise DagsterRefused(_message("runsOrError", result))
        runs = result["results"]
        return str(runs[0]["runId"]) if runs else None

    def _query(self, document: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        try:
            response = self._http.post(
                self.endpoint.url, json={"query": document, "variables": dict(variables)}
            )
        except httpx.HTTPError as exc:
            raise DagsterUnavailable(f"Dagster at {self.endpoint.url}: {exc}") from exc
        if response.status_code >= 500:
            raise DagsterUnavailable(f"Dagster at {self.endpoint.url}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise DagsterRefused(f"HTTP {response.status_code}, not GraphQL") from exc
        if body.get("errors") or not isinstance(body.get("data"), dict):
            messages = "; ".join(str(e.get("message")) for e in body.get("errors") or [])
            raise DagsterRefused(f"HTTP {response.status_code}: {messages or 'no data'}")
        data: dict[str, Any] = body["data"]
        return data

    # runs -------------------------------------------------------------------------------------

    def submit(
        self,
        job_name: str,
        *,
        tags: Mapping[str, str],
        asset_selection: Sequence[str] | None = None,
    ) -> str:
        """Submit a run of ``job_name`` (only ``asset_selection`` when given); its run id."""
        import requests
        from dagster_graphql import DagsterGraphQLClientError
        from gql.transport.exceptions import TransportConnectionFailed, TransportServerError

        try:
            return self._client().submit_job_execution(
                job_name,
                repository_location_name=self.location,
                repository_name=REPOSITORY,
                tags=dict(tags),
                asset_selection=None if asset_selection is None else list(asset_selection),
            )
        except DagsterGraphQLClientError as exc:
            cause = exc.__cause__
            server_failed = isinstance(cause, TransportServerError) and (cause.code or 500) >= 500
            if server_failed or isinstance(
                cause, TransportConnectionFailed | requests.RequestException
            ):
                raise DagsterUnavailable(f"Dagster at {self.endpoint.url}: {cause}") from exc
            raise DagsterRefused(" ".join(str(a) for a in exc.args)) from exc

    def _client(self) -> DagsterGraphQLClient:
        """A client of its own for each submission: one client's transport serves one request
        at a time (a second at once fails with "already connected"), and the API submits
        from several threads. Imported on first use: it loads Dagster itself, which an API
        that submits nothing never needs."""
        from dagster_graphql import DagsterGraphQLClient

        return DagsterGraphQLClient(
            self.endpoint.host,
            port_number=self.endpoint.port,
            use_https=self.endpoint.https,
            timeout=max(1, round(self.timeout)),
            path_prefix=self.endpoint.path_prefix,
        )

    def close(self) -> None:
        self._http.close()


def _message(operation: str, result: Mapping[str, Any]) -> str:
    return f"{operation}: {result['__typename']}: {result.get('message') or ''}".rstrip(": ")
