"""The pipeline with ``AUTOCLIP_LLM_PROVIDER=gemini`` against the fake Gemini API: analysis,
script and the safety judge come from Gemini, every call is recorded with its cost, a rerun
asks nothing, and the judge can stop an item the rules let through."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from pydantic import SecretStr

from autoclip_assets.definitions import build_definitions
from autoclip_core.schemas import Script, SourceItem
from tests.assets.conftest import Pipeline, make_pipeline
from tests.fakes.gemini import KO_SCRIPT, FakeGemini, model_answer, running_gemini

KEY = "pipeline-gemini-key-42"
CHEAP, QUALITY = "gemini-test-lite", "gemini-test-pro"
UP_TO_SCRIPT = ["source_item", "content_analysis", "topic_selection", "script"]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGemini]:
    with running_gemini(monkeypatch, api_key=KEY, models=[CHEAP, QUALITY]) as gemini:
        yield gemini


def with_gemini(local: Pipeline, fake: FakeGemini, **settings: Any) -> Pipeline:
    """``local`` with Gemini as the LLM provider, on ``fake`` (and ``settings`` besides)."""
    changed = local.settings.model_copy(
        update={
            "llm_provider": "gemini",
            "gemini_api_key": SecretStr(KEY),
            "gemini_base_url": fake.server.base,
            "gemini_analysis_model": CHEAP,
            "gemini_script_model": QUALITY,
            "vendor_requests_per_minute": {"gemini": 60_000},
            **settings,
        }
    )
    return Pipeline(changed, local.app_db, local.instance, build_definitions(changed))


@pytest.fixture
def pipeline(tmp_path: Path, fake: FakeGemini) -> Iterator[Pipeline]:
    for local in make_pipeline(tmp_path):
        yield with_gemini(local, fake)


def run(pipeline: Pipeline, content_id: str) -> dg.ExecuteInProcessResult:
    return pipeline.defs.resolve_job_def("content_job").execute_in_process(
        instance=pipeline.instance,
        partition_key=content_id,
        raise_on_error=False,
        asset_selection=[dg.AssetKey(k) for k in UP_TO_SCRIPT],
    )


def schemas_asked(fake: FakeGemini) -> list[str]:
    return [str(body["generationConfig"]["responseSchema"]["title"]) for _, body in fake.calls]


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    [m] = result.asset_materializations_for_node(asset)
    return {k: v.value for k, v in m.metadata.items()}


def test_analysis_script_and_judge_come_from_gemini_and_a_rerun_asks_nothing(
    pipeline: Pipeline, fake: FakeGemini, sample_items: dict[str, SourceItem]
) -> None:
    content_id = pipeline.add(sample_items["ko"])
    result = run(pipeline, content_id)
    assert result.success
    assert schemas_asked(fake) == ["AnalysisAnswer", "JudgeAnswer", "Script"]
    script: Script = result.output_for_node("script")
    assert script == Script.model_validate(KO_SCRIPT)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["safety_precheck"].passed
    assert metadata(result, "script")["vendor_calls"] == 1
    assert metadata(result, "content_analysis")["vendor_cost_usd"] > 0
    rows = pipeline.app_db.usage.of_content(content_id)
    assert sorted(r.usage.model for r in rows) == [CHEAP, CHEAP, QUALITY]
    assert all(r.usage.provider == "gemini" for r in rows)

    again = run(pipeline, content_id)
    assert again.success
    assert len(fake.calls) == 3
    assert metadata(again, "script")["vendor_cache_hits"] == {"gemini": 1}
    assert again.output_for_node("script") == script
    logged = [str(e) for r in (result, again) for e in pipeline.instance.all_logs(r.run_id)]
    assert KEY not in "\n".join(logged)


def test_the_judge_stops_an_item_the_rules_let_through(
    pipeline: Pipeline, fake: FakeGemini, sample_items: dict[str, SourceItem]
) -> None:
    def unsafe(model: str, body: dict[str, Any]) -> str:
        if "safe" in body["generationConfig"]["responseSchema"]["properties"]:
            return json.dumps({"safe": False, "categories": ["hate"], "reason": "slurs"})
        return model_answer(model, body)

    fake.answer = unsafe
    content_id = pipeline.add(sample_items["en"])
    result = run(pipeline, content_id)
    [check] = result.get_asset_check_evaluations()
    assert not check.passed
    assert check.description == "safety pre-check: judge: hate: slurs"
    assert "AnalysisAnswer" in schemas_asked(fake)
    assert "Script" not in schemas_asked(fake)
