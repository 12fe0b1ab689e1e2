"""The document store where AI outputs are made: with Gemini as the LLM (its fake), every
prompt and raw answer, every provider call log and the safety verdict of a run are kept as
documents of the item — in the app database's table by default, in MongoDB when chosen
(mongomock stands in for the server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mongomock
import pytest

from autoclip_assets.definitions import build_definitions
from autoclip_core.documents import DocumentStore
from autoclip_core.documents.mongodb import MongoDocumentStore
from autoclip_core.documents.table import TableDocumentStore
from autoclip_core.schemas import SourceItem
from tests.assets.conftest import Pipeline, make_pipeline
from tests.assets.test_gemini_pipeline import CHEAP, QUALITY, fake, pipeline, run
from tests.assets.test_vendor_usage import narrate
from tests.fakes.gemini import FakeGemini

__all__ = ["fake", "pipeline"]  # fixtures shared with the Gemini pipeline's tests


@pytest.fixture(params=["table", "mongodb"])
def backend(request: pytest.FixtureRequest, pipeline: Pipeline) -> Iterator[Pipeline]:
    if request.param == "table":
        yield pipeline
        return
    url = f"mongodb://mongo.test:27017/run-{id(pipeline)}"
    settings = pipeline.settings.model_copy(
        update={"document_store": "mongodb", "mongodb_url": url}
    )
    with mongomock.patch(servers=(("mongo.test", 27017),)):
        yield Pipeline(settings, pipeline.app_db, pipeline.instance, build_definitions(settings))


def test_prompts_answers_call_logs_and_verdicts_are_kept_as_the_items_documents(
    backend: Pipeline, fake: FakeGemini, sample_items: dict[str, SourceItem]
) -> None:
    content_id = backend.add(sample_items["ko"])
    assert run(backend, content_id).success
    documents: DocumentStore = backend.defs.resources["app_db"].documents
    expected = MongoDocumentStore if backend.settings.document_store == "mongodb" else (
        TableDocumentStore
    )
    assert isinstance(documents, expected)
    kept = documents.find(content_id=content_id)
    assert [d.kind for d in kept] == [
        "llm_exchange", "vendor_calls",  # content_analysis
        "llm_exchange", "vendor_calls", "safety_verdict",  # safety_precheck
        "llm_exchange", "vendor_calls",  # script
    ]  # fmt: skip

    exchanges = [d.body for d in kept if d.kind == "llm_exchange"]
    assert [(e["provider"], e["model"]) for e in exchanges] == [
        ("gemini", CHEAP), ("gemini", CHEAP), ("gemini", QUALITY),
    ]  # fmt: skip
    for exchange, (_, asked) in zip(exchanges, fake.calls, strict=True):
        prompt = exchange["request"]["contents"][0]["parts"][0]["text"]
        assert prompt == asked["contents"][0]["parts"][0]["text"]
        answer = exchange["response"]["candidates"][0]["content"]["parts"][0]["text"]
        assert answer.startswith("{")
    assert sample_items["ko"].title in exchanges[0]["request"]["contents"][0]["parts"][0]["text"]

    [verdict] = [d.body for d in kept if d.kind == "safety_verdict"]
    assert verdict["check"] == ["safety_precheck"]
    assert (verdict["judge"], verdict["passed"], verdict["language"]) == ("llm", True, "ko")

    call_logs = [d.body for d in kept if d.kind == "vendor_calls"]
    assert [log["usages"][0]["model"] for log in call_logs] == [CHEAP, CHEAP, QUALITY]
    assert all(log["usages"][0]["cost_usd"] > 0 for log in call_logs)

    if backend.settings.document_store == "mongodb":
        return  # the rerun below does not depend on the backend
    # A rerun answers from the cache: no new exchange, the cache hit is logged.
    assert run(backend, content_id).success
    again = documents.find(content_id=content_id)[len(kept) :]
    assert "llm_exchange" not in {d.kind for d in again}
    assert {d.body.get("vendor_cache_hits", {}).get("gemini") for d in again if
            d.kind == "vendor_calls"} == {1}  # fmt: skip


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Pipeline]:
    yield from make_pipeline(tmp_path)


def test_a_media_steps_provider_call_log_is_a_document_of_the_item(
    local: Pipeline, sample_items: dict[str, SourceItem]
) -> None:
    content_id = local.add(sample_items["en"])
    spoken = narrate(local, content_id).output_for_node("narration").segments
    [log] = local.app_db.documents.find(kind="vendor_calls", content_id=content_id)
    assert log.body["answered_by"] == {"tts": "paid"}
    assert log.body["providers_failed"] == {"tts": "down"}
    assert [u["provider"] for u in log.body["usages"]] == ["openai"] * len(spoken)
