"""A paid provider's calls reach the usage table and the asset's metadata, with the provider of
the chain that answered; a rerun finds the speech in storage and pays nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from autoclip_assets.analysis import content_analysis, topic_selection
from autoclip_assets.ingest import source_item
from autoclip_assets.media import narration
from autoclip_assets.scripting import script
from autoclip_core.schemas import Language, SourceItem
from resources.errors import TTSError
from resources.tts.base import SpeechClip
from resources.tts.chain import TTSChain
from resources.tts.espeak import EspeakTTS
from resources.vendors.usage import priced, report_usage
from tests.assets.conftest import Pipeline, make_pipeline

STAGES = [source_item, content_analysis, topic_selection, script, narration]


class DownTTS(EspeakTTS):
    def synthesize(self, phrases: list[str], language: Language, out_wav: Path) -> SpeechClip:
        raise TTSError("down: HTTP 401: invalid key")


class PaidTTS(EspeakTTS):
    """espeak's speech, counted as if a vendor had been paid for its characters."""

    def synthesize(self, phrases: list[str], language: Language, out_wav: Path) -> SpeechClip:
        clip = super().synthesize(phrases, language, out_wav)
        report_usage(priced("openai", "tts-1", {"characters": sum(map(len, phrases))}))
        return clip


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    yield from make_pipeline(tmp_path)


def narrate(pipeline: Pipeline, content_id: str) -> dg.ExecuteInProcessResult:
    tts = TTSChain.of([("down", DownTTS()), ("paid", PaidTTS())])
    return dg.materialize(
        STAGES,
        resources={**pipeline.defs.resources, "tts": tts},
        instance=pipeline.instance,
        partition_key=content_id,
    )


def test_paid_speech_is_charged_to_the_item_once_and_shown_in_metadata(
    pipeline: Pipeline, sample_items: dict[str, SourceItem]
) -> None:
    content_id = pipeline.add(sample_items["en"])
    first = narrate(pipeline, content_id)
    [materialization] = first.asset_materializations_for_node("narration")
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    spoken = first.output_for_node("narration").segments
    assert metadata["answered_by"] == {"tts": "paid"}
    assert metadata["providers_failed"] == {"tts": "down"}
    assert metadata["vendor_calls"] == len(spoken)

    rows = pipeline.app_db.usage.of_content(content_id)
    assert len(rows) == len(spoken)
    assert {(r.usage.provider, r.usage.model) for r in rows} == {("openai", "tts-1")}
    project = pipeline.app_db.projects.of_content(content_id)
    assert {r.project_id for r in rows} == {project.id}
    summary = pipeline.app_db.usage.summary(content_id)
    assert summary.cost_usd == pytest.approx(metadata["vendor_cost_usd"])

    again = narrate(pipeline, content_id)
    [materialization] = again.asset_materializations_for_node("narration")
    assert "vendor_calls" not in materialization.metadata
    assert len(pipeline.app_db.usage.of_content(content_id)) == len(spoken)
