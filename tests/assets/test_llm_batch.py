"""The daily batch with ``AUTOCLIP_GEMINI_BATCH=1`` against the fake Gemini: the schedule asks
for one ``llm_batch_job`` run, which gets the items' analyses, verdicts and scripts through the
Batch API at the batch price; the items' runs it then requests take them from the cache and ask
Gemini nothing; a failed batch leaves the items to ordinary calls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dagster as dg
import pytest
from dagster_shared.record import copy

from autoclip_assets.partitions import content_items
from autoclip_core.feeds import SAMPLE_FEED, read_feed
from autoclip_core.pipeline_names import PROJECT_TAG, SCORE_TAG, TRIGGER_TAG, Trigger
from autoclip_core.schemas import SourceItem
from tests.assets.conftest import Pipeline, make_pipeline
from tests.assets.test_gemini_pipeline import CHEAP, KEY, QUALITY, with_gemini
from tests.fakes import gemini as fake_gemini
from tests.fakes.gemini import FakeGemini, running_gemini
from tests.ingest.test_daily_batch_schedule import AT, item, mirrored

UP_TO_SCRIPT = ["source_item", "content_analysis", "topic_selection", "script"]


@pytest.fixture(scope="module")
def served() -> Iterator[FakeGemini]:
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        running_gemini(monkeypatch, api_key=KEY, models=[CHEAP, QUALITY]) as gemini,
    ):
        yield gemini


@pytest.fixture
def fake(served: FakeGemini) -> FakeGemini:
    """The module's fake Gemini, as new: nothing asked, batches that succeed after a poll."""
    served.calls.clear()
    served.batches.clear()
    served.server.requests.clear()
    served.batch_outcome = fake_gemini.SUCCEEDED
    served.batch_polls = 1
    return served


def gemini_settings(local: Pipeline, fake: FakeGemini, batch: bool) -> Pipeline:
    pipeline = with_gemini(local, fake, gemini_batch=batch)
    # The batch is looked at every 30 s; the fake's answers are ready at once.
    configured = pipeline.defs.resources["llm"]
    llm = type(configured)(**{**configured.model_dump(), "batch_poll_s": 0.01})
    defs = copy(pipeline.defs, resources={**(pipeline.defs.resources or {}), "llm": llm})
    return Pipeline(pipeline.settings, pipeline.app_db, pipeline.instance, defs)


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    yield from make_pipeline(tmp_path_factory.mktemp("llm-batch"))


@pytest.fixture(scope="module")
def pipeline(local: Pipeline, served: FakeGemini) -> Pipeline:
    return gemini_settings(local, served, batch=True)


def sample(request: pytest.FixtureRequest) -> list[SourceItem]:
    """An English item and a Korean one of the sample feed, as new to this test (its own ids
    and titles, so no answer cached by another test of the module fits them)."""
    items = read_feed(str(SAMPLE_FEED), project="demo")
    korean = [i for i in items if any("\uac00" <= c <= "\ud7a3" for c in i.text)]
    english = [i for i in items if i not in korean]
    tag = request.node.name
    return [
        i.model_copy(update={"id": f"{i.id}-{tag}", "title": f"{i.title} ({tag})"})
        for i in (english[0], korean[0])
    ]


def run_batch(pipeline: Pipeline, ids: list[str]) -> dg.ExecuteInProcessResult:
    config = {"project": "demo", "items": ids, "scores": [0.5] * len(ids)}
    return pipeline.defs.resolve_job_def("llm_batch_job").execute_in_process(
        instance=pipeline.instance,
        run_config={"ops": {"llm_batch": {"config": config}}},
        raise_on_error=False,
    )


def run_item(pipeline: Pipeline, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    return pipeline.defs.resolve_job_def("content_job").execute_in_process(
        instance=pipeline.instance,
        partition_key=request.partition_key,
        tags=request.tags,
        raise_on_error=False,
        asset_selection=[dg.AssetKey(k) for k in UP_TO_SCRIPT],
    )


def ended(
    pipeline: Pipeline, result: dg.ExecuteInProcessResult, sensor: str
) -> list[dg.RunRequest]:
    """What ``sensor`` requests for the batch run that ``result`` reports on."""
    run = result.dagster_run
    [record] = pipeline.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor,
        dagster_event=record.get_dagster_event(),
        dagster_instance=pipeline.instance,
        dagster_run=run,
    )
    requests = pipeline.defs.resolve_sensor_def(sensor)(context)  # type: ignore[call-arg]
    assert isinstance(requests, list)
    return requests


def schemas(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return sorted(str(body["generationConfig"]["responseSchema"]["title"]) for _, body in calls)


def test_the_batch_answers_ahead_and_the_items_runs_ask_nothing(
    pipeline: Pipeline, fake: FakeGemini, request: pytest.FixtureRequest
) -> None:
    ids = [pipeline.add(i) for i in sample(request)]
    result = run_batch(pipeline, ids)
    assert result.success
    # Two rounds: the analyses (cheap model), then verdicts (cheap) and scripts (quality).
    assert len(fake.batches) == 3
    assert fake.requests() == []
    assert schemas(fake.calls) == ["AnalysisAnswer"] * 2 + ["JudgeAnswer"] * 2 + ["Script"] * 2
    [output] = [e for e in result.all_node_events if e.is_successful_output]
    metadata = {k: v.value for k, v in output.step_output_data.metadata.items()}
    counts = ("items", "answered_ahead", "not_answered_ahead")
    assert tuple(metadata[k] for k in counts) == (2, 6, 0)
    assert set(metadata["batches"].values()) == {"JOB_STATE_SUCCEEDED"}
    rows = {i: pipeline.app_db.usage.of_content(i) for i in ids}
    assert all(len(r) == 3 for r in rows.values())
    units = {unit for r in rows.values() for row in r for unit in row.usage.units}
    assert units == {"batch_input_tokens", "batch_output_tokens"}
    # The item's documents keep each batch answer as they keep one-by-one answers.
    exchanges = pipeline.app_db.documents.find(kind="llm_exchange", content_id=ids[1])
    assert [(d.body["model"], "Korean" in d.body["request"]["system"]) for d in exchanges] == [
        (CHEAP, True),
        (CHEAP, True),
        (QUALITY, True),
    ]

    requests = ended(pipeline, result, "llm_batch_success_sensor")
    assert [r.partition_key for r in requests] == ids
    assert requests[0].run_key == f"daily:{ids[0]}"
    assert requests[0].tags == {
        TRIGGER_TAG: Trigger.DAILY_BATCH,
        PROJECT_TAG: "demo",
        SCORE_TAG: "0.500",
    }
    asked = len(fake.server.requests)
    for request in requests:
        assert run_item(pipeline, request).success
    assert len(fake.server.requests) == asked
    # Nothing charged twice: the runs found every answer in the cache.
    assert {i: len(pipeline.app_db.usage.of_content(i)) for i in ids} == dict.fromkeys(ids, 3)


def test_an_item_the_rules_stop_gets_no_script(
    pipeline: Pipeline, fake: FakeGemini, request: pytest.FixtureRequest
) -> None:
    english, korean = sample(request)
    pipeline.app_db.projects.ensure("demo", blocked_terms=["casino"])
    blocked = english.model_copy(update={"text": english.text + " casino"})
    ids = [pipeline.add(blocked), pipeline.add(korean)]
    try:
        assert run_batch(pipeline, ids).success
    finally:
        pipeline.app_db.projects.ensure("demo", blocked_terms=[])
    assert schemas(fake.calls).count("Script") == 1


def test_when_the_batch_fails_the_items_runs_ask_one_by_one(
    pipeline: Pipeline, fake: FakeGemini, request: pytest.FixtureRequest
) -> None:
    fake.batch_outcome = fake_gemini.FAILED
    [english, *_] = sample(request)
    ids = [pipeline.add(english)]
    result = run_batch(pipeline, ids)
    assert result.success
    # The analyses were asked one by one in the batch run (the verdicts and scripts could not
    # be asked without them); the second round's batches failed too.
    assert schemas(fake.calls) == ["AnalysisAnswer"]
    [request] = ended(pipeline, result, "llm_batch_success_sensor")
    assert run_item(pipeline, request).success
    assert schemas(fake.calls) == ["AnalysisAnswer", "JudgeAnswer", "Script"]
    assert all(
        set(row.usage.units) == {"input_tokens", "output_tokens"}
        for row in pipeline.app_db.usage.of_content(ids[0])
    )


def test_the_schedule_asks_for_one_batch_run_per_project(pipeline: Pipeline) -> None:
    mirrored(pipeline.settings.app_database_url)
    drafts = [item(n, "Subway fares rise in Seoul. " * 40) for n in (1, 2, 3)]
    pipeline.app_db.content.register_new_items(drafts)
    pipeline.instance.add_dynamic_partitions(content_items.name, [i.id for i in drafts])
    schedule = pipeline.defs.resolve_schedule_def("daily_batch_schedule")
    assert schedule.job_name == "llm_batch_job"
    context = dg.build_schedule_context(
        instance=pipeline.instance,
        scheduled_execution_time=AT + timedelta(minutes=1),
        resources={"app_db": pipeline.app_db},
    )
    [request] = schedule(context)  # type: ignore[misc]
    config = request.run_config["ops"]["llm_batch"]["config"]
    assert config["project"] == "news-ko"
    assert len(config["items"]) == 2  # the project's batch count
    assert request.run_key == f"daily-llm:news-ko:{AT.date().isoformat()}"
    assert request.tags[TRIGGER_TAG] == Trigger.DAILY_BATCH
    sensors = {s.name for s in pipeline.defs.sensors or []}
    assert {"llm_batch_success_sensor", "llm_batch_failure_sensor"} <= sensors


def test_without_the_batch_api_the_daily_batch_is_as_before(
    local: Pipeline, served: FakeGemini
) -> None:
    defs = gemini_settings(local, served, batch=False).defs
    assert defs.resolve_schedule_def("daily_batch_schedule").job_name == "content_job"
    assert not any(s.name.startswith("llm_batch") for s in defs.sensors or [])
    with pytest.raises(dg.DagsterInvariantViolationError):
        defs.resolve_job_def("llm_batch_job")
