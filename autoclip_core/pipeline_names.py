"""Names the pipeline and the API share: Dagster job names and run tags.

Plain strings, so code that must not import Dagster (the API) can submit a job by name
or read a run's tags with the same spelling the asset graph uses.
"""

from __future__ import annotations

from typing import Final

# What each job runs: autoclip_assets/jobs.py.
CONTENT_JOB = "content_job"
PUBLISH_JOB = "publish_job"
PERFORMANCE_JOB = "performance_job"

STATE_CHANGING_JOBS = frozenset({CONTENT_JOB, PUBLISH_JOB})
"""Jobs whose runs move a content item through its states (the run-status sensors)."""

PARTITION_TAG = "dagster/partition"
"""Set by Dagster on every partitioned run: the content item's id."""
TRIGGER_TAG = "autoclip/trigger"
"""What requested the run (a ``Trigger``); dagster.yaml limits concurrent ``sensor`` runs."""
PROJECT_TAG = "autoclip/project"
SOURCE_TAG = "autoclip/source"
"""``<project>/<source name>`` of the item a source sensor run was requested for."""
SCORE_TAG = "autoclip/score"
"""The daily batch's ranking score of the item, three decimals."""


class Trigger:
    """Values of ``TRIGGER_TAG``: plain strings, the only tag values Dagster stores."""

    SENSOR: Final = "sensor"
    DAILY_BATCH: Final = "daily_batch"
    PERFORMANCE: Final = "performance"
    APPROVAL: Final = "approval"
    DEMO: Final = "demo"
