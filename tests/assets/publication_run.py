"""The ``publication`` step of one item, alone (its upstream assets stand in for a rendered
item), on the resources the settings choose — also in a process of its own, to be killed:

    python -m tests.assets.publication_run <content id> <RenderedVideo JSON> <channels>

(settings from the environment, as ``make dev``'s run workers read them)."""

from __future__ import annotations

import sys
from typing import Any

import dagster as dg

from autoclip_assets.partitions import content_items
from autoclip_assets.publishing import publication
from autoclip_core.schemas import RenderedVideo, Scene, Script, TopicSelection
from autoclip_core.settings import Settings
from resources.registry import build_resources

SCRIPT = Script(
    title="A new harbour",
    hook="Two ferries, a park and a cycle path are coming to the harbour.",
    scenes=[
        Scene(narration=f"Part {n} of the plan.", on_screen_text=f"Part {n}", visual_query="port")
        for n in (1, 2, 3)
    ],
    call_to_action="Follow for more city news.",
    hashtags=["#harbour"],
    description="The harbour plan in short.",
    language="en",
)


def stand_in(name: str, value: object) -> dg.AssetsDefinition:
    @dg.asset(name=name, partitions_def=content_items)
    def made() -> object:
        return value

    return made


def publish_item(
    settings: Settings,
    content_id: str,
    video: RenderedVideo,
    channels: list[str],
    *,
    instance: dg.DagsterInstance | None = None,
    **resources: Any,
) -> dg.ExecuteInProcessResult:
    """Materialise ``publication`` of ``content_id`` routed to ``channels`` (``resources``
    replace those the settings choose)."""
    upstream = [
        stand_in("video", video),
        stand_in("script", SCRIPT),
        stand_in(
            "topic_selection",
            TopicSelection(selected=True, score=1, reason="r", channels=channels),
        ),
    ]
    if instance is None:
        # entered for the call: loading the definitions then finds this live instance's
        # state storage, not one left behind by an instance already collected
        with dg.DagsterInstance.ephemeral() as own:
            return publish_item(settings, content_id, video, channels, instance=own, **resources)
    instance.add_dynamic_partitions(content_items.name, [content_id])
    return dg.materialize(
        [*upstream, publication],
        resources={**build_resources(settings), **resources},
        instance=instance,
        partition_key=content_id,
        raise_on_error=False,
    )


if __name__ == "__main__":
    content_id, rendered, channels = sys.argv[1:4]
    result = publish_item(
        Settings(), content_id, RenderedVideo.model_validate_json(rendered), channels.split(",")
    )
    sys.exit(0 if result.success else 1)
