"""Where an item goes: its own template and channels over its project's (``topic_selection``),
and a publish run that names its channels (``POST /contents/{id}/publish {channels}``)
publishes there, not to the item's route."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from autoclip_assets.analysis import topic_selection
from autoclip_assets.partitions import content_items
from autoclip_assets.publishing import publication
from autoclip_core.db.models import Channel, ContentItem, Organization
from autoclip_core.pipeline_names import CHANNELS_TAG
from autoclip_core.schemas import Publication, RenderedVideo, Script, SourceItem, TopicSelection
from resources.llm.local import LocalLLM
from tests.api.contents_setup import SCRIPT
from tests.assets.conftest import Pipeline, make_pipeline


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    yield from make_pipeline(tmp_path)


def stored_video(pipeline: Pipeline) -> RenderedVideo:
    storage = pipeline.defs.resources["storage"]
    video, thumbnail = (
        storage.put_bytes("video/aa/v.mp4", b"mp4"),
        storage.put_bytes("video/aa/v.jpg", b"jpg"),
    )
    return RenderedVideo(
        video_key=video, thumbnail_key=thumbnail, duration=44.0, width=1080, height=1920,
        fps=30, size_bytes=3, render_seconds=1.0, template="short",
    )  # fmt: skip


def stand_in(name: str, value: object) -> dg.AssetsDefinition:
    @dg.asset(name=name, partitions_def=content_items)
    def made() -> object:
        return value

    return made


def publish(pipeline: Pipeline, content_id: str, tags: dict[str, str]) -> Publication:
    """A publish run with these tags, its upstream assets standing in for a rendered item."""
    stand_ins = {
        "video": stored_video(pipeline),
        "script": Script.model_validate(SCRIPT.model_dump()),
        "topic_selection": TopicSelection(selected=True, score=1, reason="r", channels=["local"]),
    }
    upstream = [stand_in(name, value) for name, value in stand_ins.items()]
    result = dg.materialize(
        [*upstream, publication],
        resources=pipeline.defs.resources,
        instance=pipeline.instance,
        partition_key=content_id,
        tags=tags,
    )
    made: Publication = result.output_for_node("publication")
    return made


def test_a_publish_run_that_names_channels_publishes_there(
    pipeline: Pipeline, sample_items: dict[str, SourceItem]
) -> None:
    content_id = pipeline.add(sample_items["en"])
    assert [r.channel for r in publish(pipeline, content_id, {}).receipts] == ["local"]
    named = publish(pipeline, content_id, {CHANNELS_TAG: "archive,press"})
    assert [r.channel for r in named.receipts] == ["archive", "press"]


def route_of(pipeline: Pipeline, item: SourceItem) -> tuple[str, list[str]]:
    selection = topic_selection(
        dg.build_asset_context(),
        source_item=item,
        content_analysis=LocalLLM().analyze(item),
        app_db=pipeline.app_db,
    )
    return selection.template, selection.channels


def test_an_items_own_template_and_channels_win_over_its_projects(
    pipeline: Pipeline, sample_items: dict[str, SourceItem]
) -> None:
    item = sample_items["en"]
    content_id = pipeline.add(item)
    channel_ids = [f"{1:032x}", f"{2:032x}"]
    with pipeline.app_db.database.transaction() as s:
        org = Organization(name="Acme")
        s.add(org)
        s.flush()
        content = s.get(ContentItem, content_id)
        assert content is not None
        project = content.project
        project.org_id = org.id
        s.add_all(
            Channel(id=channel_id, org_id=org.id, project_id=project.id, platform="local",
                    name=name, slug=f"{name}-x", settings={}, state="active")
            for channel_id, name in zip(channel_ids, ("main", "extra"), strict=True)
        )  # fmt: skip
        project.channels = channel_ids
        project.template_id = "long"
    assert route_of(pipeline, item) == ("long", ["main-x", "extra-x"])
    with pipeline.app_db.database.transaction() as s:
        content = s.get(ContentItem, content_id)
        assert content is not None
        content.template_id, content.channels = "square", [channel_ids[1]]
    assert route_of(pipeline, item) == ("square", ["extra-x"])
