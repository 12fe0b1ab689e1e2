"""Names the pipeline and the API share: Dagster job names, run tags, asset keys.

Plain strings, so code that must not import Dagster (the API) can submit a job by name
or read a run's tags with the same spelling the asset graph uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

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
REQUEST_TAG = "autoclip/request"
"""The id of the ``jobs`` row a run was submitted for (a run the API asked for)."""
CHANNELS_TAG = "autoclip/channels"
"""Comma-separated channels a publish run publishes to (unset: the item's route)."""


def tagged_channels(tags: Mapping[str, str]) -> list[str]:
    """The channels a run's ``CHANNELS_TAG`` names (none: the run does not choose)."""
    return [channel for channel in tags.get(CHANNELS_TAG, "").split(",") if channel]


CONTENT_PARTITIONS = "content_items"
"""The dynamic partitions definition: one key per content item (its id)."""

PIPELINE_STEPS = (
    "source_item",
    "content_analysis",
    "content_analysis_safety_precheck",
    "topic_selection",
    "script",
    "narration",
    "scene_images",
    "video",
    "video_safety_postcheck",
    "publication",
)
"""The steps of ``content_job`` in order: each asset, and each blocking check after its asset."""

GenerateFrom = Literal["script", "narration", "visuals", "video"]
GENERATE_FROM: Mapping[GenerateFrom, tuple[str, ...]] = {
    "script": ("topic_selection", "script", "narration", "scene_images", "video", "publication"),
    "narration": ("topic_selection", "narration", "video", "publication"),
    "visuals": ("topic_selection", "scene_images", "video", "publication"),
    "video": ("topic_selection", "video", "publication"),
}
"""The assets a ``content_job`` run "from" a stage materialises: the stage and everything
downstream of it, re-routed first (``topic_selection``: the item's template and channels as
they are now); the rest is read from the item's earlier runs."""


class Trigger:
    """Values of ``TRIGGER_TAG``: plain strings, the only tag values Dagster stores."""

    SENSOR: Final = "sensor"
    DAILY_BATCH: Final = "daily_batch"
    PERFORMANCE: Final = "performance"
    APPROVAL: Final = "approval"
    DEMO: Final = "demo"
    API: Final = "api"
