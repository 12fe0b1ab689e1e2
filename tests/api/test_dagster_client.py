"""The API's Dagster client against the fake GraphQL endpoint: what it sends and how it
tells an unreachable Dagster from one that says no."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from autoclip_api.dagster.client import DagsterClient, DagsterRefused, DagsterUnavailable
from autoclip_core.pipeline_names import CONTENT_JOB, CONTENT_PARTITIONS, PARTITION_TAG
from tests.fakes.dagster_graphql import FakeDagster, running_fake_dagster


@pytest.fixture
def dagster() -> Iterator[FakeDagster]:
    with running_fake_dagster() as fake:
        yield fake


def test_submissions_from_many_threads_at_once_all_get_their_run(dagster: FakeDagster) -> None:
    """The API submits on its thread pool: two requests' submissions may overlap."""
    client = DagsterClient(dagster.graphql_url, "autoclip")
    keys = [f"item-{n}" for n in range(8)]
    for key in keys:
        client.add_partition(CONTENT_PARTITIONS, key)
    with ThreadPoolExecutor(8) as pool:
        runs = list(
            pool.map(lambda key: client.submit(CONTENT_JOB, tags={PARTITION_TAG: key}), keys)
        )
    assert len(set(runs)) == len(keys)
    assert sorted(r.tags[PARTITION_TAG] for r in dagster.runs) == sorted(keys)
    client.close()


def test_an_unreachable_dagster_and_a_refusal_are_told_apart(dagster: FakeDagster) -> None:
    client = DagsterClient(dagster.graphql_url, "autoclip")
    with pytest.raises(DagsterRefused, match="unknown partition"):
        client.submit(CONTENT_JOB, tags={PARTITION_TAG: "never-added"})
    with pytest.raises(DagsterRefused, match="PipelineNotFoundError"):
        client.submit("no_such_job", tags={})
    client.add_partition(CONTENT_PARTITIONS, "a")
    client.add_partition(CONTENT_PARTITIONS, "a")  # a duplicate is fine
    dagster.down()
    for call in (
        lambda: client.add_partition(CONTENT_PARTITIONS, "b"),
        lambda: client.run_with_tag("k", "v"),
        lambda: client.submit(CONTENT_JOB, tags={PARTITION_TAG: "a"}),
    ):
        with pytest.raises(DagsterUnavailable):
            call()
    client.close()
