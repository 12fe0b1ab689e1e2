"""The instance configuration in dagster.yaml: a run queue and provider pools."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
from dagster._core.run_coordinator import QueuedRunCoordinator

DAGSTER_YAML = Path(__file__).resolve().parents[2] / "dagster.yaml"


def test_the_instance_queues_runs_and_limits_pools(tmp_path: Path) -> None:
    shutil.copyfile(DAGSTER_YAML, tmp_path / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        config = instance.get_concurrency_config()
        queue = config.run_queue_config
        assert queue is not None
        assert queue.max_concurrent_runs == 2
        assert {"key": "autoclip/trigger", "value": "sensor", "limit": 1} in (
            queue.tag_concurrency_limits
        )
        assert config.pool_config.default_pool_limit == 1
        assert str(config.pool_config.pool_granularity.value) == "op"
    finally:
        instance.dispose()
