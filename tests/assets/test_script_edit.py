"""A person's edit of the script (``PATCH /contents/{id}``) is what the ``script`` asset
returns, and rerunning from the script speaks again only the parts whose words changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from autoclip_assets.analysis import content_analysis, topic_selection
from autoclip_assets.ingest import source_item
from autoclip_assets.media import narration
from autoclip_assets.scripting import script
from autoclip_core.db.models import ContentItem
from autoclip_core.schemas import Script, SourceItem
from tests.assets.conftest import Pipeline, make_pipeline

STAGES = [source_item, content_analysis, topic_selection, script, narration]


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    yield from make_pipeline(tmp_path)


def run(pipeline: Pipeline, content_id: str, selection: list[str]) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        STAGES,
        selection=selection,
        resources=pipeline.defs.resources,
        instance=pipeline.instance,
        partition_key=content_id,
    )


def reused(result: dg.ExecuteInProcessResult) -> int:
    [materialization] = result.asset_materializations_for_node("narration")
    return int(materialization.metadata["reused_from_storage"].value)  # type: ignore[arg-type]


def edit(pipeline: Pipeline, content_id: str, edited: Script) -> None:
    with pipeline.app_db.database.transaction() as s:
        s.get(ContentItem, content_id).script_override = edited.model_dump(mode="json")  # type: ignore[union-attr]


def test_an_edited_script_is_used_and_only_changed_words_are_spoken_again(
    pipeline: Pipeline, sample_items: dict[str, SourceItem]
) -> None:
    content_id = pipeline.add(sample_items["en"])
    first = run(pipeline, content_id, [a.key.to_user_string() for a in STAGES])
    written: Script = first.output_for_node("script")
    assert reused(first) == 0
    with pipeline.app_db.database.transaction() as s:
        assert s.get(ContentItem, content_id).script == written.model_dump(mode="json")  # type: ignore[union-attr]

    # new headlines and title, the same words spoken: no speech is made again
    headlines = [s.model_copy(update={"on_screen_text": f"New {n}"}) for n, s in
                 enumerate(written.scenes)]  # fmt: skip
    edited = written.model_copy(update={"title": "Edited title", "scenes": headlines})
    edit(pipeline, content_id, edited)
    again = run(pipeline, content_id, ["script", "narration"])
    assert again.output_for_node("script") == edited
    parts = len(edited.spoken_parts())
    assert reused(again) == parts

    # one scene says something else: only that part is spoken again
    changed = [*edited.scenes]
    changed[0] = changed[0].model_copy(update={"narration": "Something else entirely is said."})
    edit(pipeline, content_id, edited.model_copy(update={"scenes": changed}))
    assert reused(run(pipeline, content_id, ["script", "narration"])) == parts - 1
