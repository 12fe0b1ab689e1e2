"""Runs the API asks Dagster for: committed first (the outbox), submitted once, never lost —
and the review decisions and publication that follow."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest
from fastapi import FastAPI

from autoclip_api.dagster.outbox import MAX_REFUSALS, Outcome
from autoclip_core.db.content import ContentRepository
from autoclip_core.db.jobs import CheckRecord, JobRepository, StepRecord
from autoclip_core.db.models import utcnow
from autoclip_core.db.uploads import UploadRepository
from autoclip_core.pipeline_names import (
    CHANNELS_TAG,
    CONTENT_JOB,
    CONTENT_PARTITIONS,
    GENERATE_FROM,
    PARTITION_TAG,
    PUBLISH_JOB,
    REQUEST_TAG,
    TRIGGER_TAG,
)
from autoclip_core.schemas import PublishReceipt
from autoclip_core.states import ContentState, JobState
from tests.api.conftest import client_for
from tests.api.contents_setup import (
    api,
    contents_app,
    dagster,
    new_item,
    pipeline_made,
    runs_ended,
    studio,
    submitter,
)
from tests.api.helpers import ApiClient
from tests.fakes.dagster_graphql import FakeDagster

__all__ = ["api", "contents_app", "dagster"]

pytestmark = pytest.mark.anyio


async def test_generate_answers_202_with_the_job_and_submits_one_tagged_run(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    response = await api.post(f"/api/v1/contents/{item['id']}/generate", headers=s.owner.headers)
    assert response.status_code == 202, response.text
    job = response.json()
    assert (job["job"], job["state"], job["selection"]) == (CONTENT_JOB, "pending", None)
    # submitted once the response was sent (the ASGI call includes its background tasks)
    [run] = dagster.runs
    assert run.job == CONTENT_JOB
    assert run.tags[PARTITION_TAG] == item["id"]
    assert run.tags[REQUEST_TAG] == job["id"]
    assert run.tags[TRIGGER_TAG] == "api"
    assert run.asset_selection is None
    assert dagster.partitions[CONTENT_PARTITIONS] == [item["id"]]
    [listed] = (
        await api.get(f"/api/v1/contents/{item['id']}/jobs", headers=s.owner.headers)
    ).json()["items"]
    assert listed["run_id"] == run.run_id
    assert listed["run_url"] == f"http://127.0.0.1:{dagster.port}/runs/{run.run_id}"
    assert listed["submitted_at"] is not None


async def test_generate_from_a_stage_selects_it_and_what_depends_on_it(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    path = f"/api/v1/contents/{item['id']}/generate"
    never = await api.post(path, json={"from": "narration"}, headers=s.owner.headers)
    assert never.status_code == 409
    assert "never generated" in never.json()["detail"]
    pipeline_made(contents_app, item["id"])
    job = (await api.post(path, json={"from": "narration"}, headers=s.owner.headers)).json()
    assert job["selection"] == list(GENERATE_FROM["narration"])
    assert dagster.runs[-1].asset_selection == list(GENERATE_FROM["narration"])
    unknown = await api.post(path, json={"from": "music"}, headers=s.owner.headers)
    assert unknown.status_code == 422


async def test_a_second_generate_while_one_is_pending_is_a_409(api: ApiClient) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    path = f"/api/v1/contents/{item['id']}/generate"
    first = await api.post(path, headers=s.owner.headers)
    second = await api.post(path, headers=s.owner.headers)
    assert second.status_code == 409
    assert second.json()["detail"] == (
        f"A content_job run of the item is pending (job {first.json()['id']})"
    )


async def test_with_dagster_down_generate_is_accepted_and_submitted_when_it_returns(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    dagster.down()
    response = await api.post(f"/api/v1/contents/{item['id']}/generate", headers=s.owner.headers)
    assert response.status_code == 202
    job_id = response.json()["id"]
    [waiting] = (
        await api.get(f"/api/v1/contents/{item['id']}/jobs", headers=s.owner.headers)
    ).json()["items"]
    assert (waiting["state"], waiting["run_id"]) == ("pending", None)
    assert "Dagster at" in waiting["submit_error"]
    assert submitter(contents_app).submit_pending() == [Outcome.DEFERRED]

    dagster.up()
    assert submitter(contents_app).submit_pending() == [Outcome.SUBMITTED]
    assert submitter(contents_app).submit_pending() == []
    assert [r.tags[REQUEST_TAG] for r in dagster.runs] == [job_id]


async def test_a_crash_between_commit_and_submit_still_makes_exactly_one_run(
    api: ApiClient,
    app_factory,
    dagster: FakeDagster,  # type: ignore[no-untyped-def]
) -> None:
    """The first API process commits the request and dies before submitting it (Dagster was
    unreachable, so its own attempt never got through); a new process submits it, once."""
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    first = app_factory(dagster_graphql_url=dagster.graphql_url, dagster_submit_interval_seconds=0)
    dagster.down()
    async with client_for(first) as http:
        response = await http.post(
            f"/api/v1/contents/{item['id']}/generate", headers=s.owner.headers
        )
    assert response.status_code == 202
    first.state.api.close()  # the process is gone

    dagster.up()
    second = app_factory(dagster_graphql_url=dagster.graphql_url, dagster_submit_interval_seconds=0)
    assert submitter(second).submit_pending() == [Outcome.SUBMITTED]
    assert submitter(second).submit_pending() == []
    assert len(dagster.runs) == 1


async def test_a_crash_after_submitting_finds_the_run_instead_of_starting_another(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run reached Dagster, then the process died before recording its id: the next
    submitter finds the run by the request's tag."""
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    dagster.down()
    job_id = (
        await api.post(f"/api/v1/contents/{item['id']}/generate", headers=s.owner.headers)
    ).json()["id"]
    dagster.up()

    def crash(self: JobRepository, job_id: str, run_id: str) -> bool:
        raise SystemExit("killed")

    monkeypatch.setattr(JobRepository, "mark_submitted", crash)
    with pytest.raises(SystemExit):
        submitter(contents_app).submit(job_id)
    monkeypatch.undo()
    assert len(dagster.runs) == 1

    later = utcnow() + timedelta(minutes=5)  # the dead submitter's lease has run out
    assert JobRepository(contents_app.state.api.database).unsubmitted(now=later) == [job_id]
    monkeypatch.setattr("autoclip_core.db.jobs.utcnow", lambda: later)
    assert submitter(contents_app).submit(job_id) == Outcome.FOUND
    assert len(dagster.runs) == 1
    assert (
        JobRepository(contents_app.state.api.database).get(job_id).run_id == dagster.runs[0].run_id
    )


async def test_two_submitters_of_one_request_start_one_run(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    dagster.down()
    job_id = (
        await api.post(f"/api/v1/contents/{item['id']}/generate", headers=s.owner.headers)
    ).json()["id"]
    dagster.up()
    database = contents_app.state.api.database
    held = JobRepository(database).claim(job_id, lease=timedelta(minutes=2))
    assert held is not None
    assert submitter(contents_app).submit(job_id) == Outcome.HELD
    assert dagster.runs == []


async def test_a_request_dagster_keeps_refusing_fails_with_its_reason(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    dagster.refuse_launch = "PipelineNotFoundError"
    job_id = (
        await api.post(f"/api/v1/contents/{item['id']}/generate", headers=s.owner.headers)
    ).json()["id"]
    for _ in range(MAX_REFUSALS - 1):
        assert submitter(contents_app).submit_pending() == [Outcome.REFUSED]
    job = JobRepository(contents_app.state.api.database).get(job_id)
    assert job.state == JobState.FAILED
    assert job.error is not None
    assert "PipelineNotFoundError" in job.error
    assert submitter(contents_app).submit_pending() == []


async def test_the_jobs_list_shows_steps_with_tries_and_the_real_error(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    await api.post(f"/api/v1/contents/{item['id']}/generate", headers=s.owner.headers)
    run_id = dagster.runs[0].run_id
    jobs = JobRepository(contents_app.state.api.database)
    start = utcnow()
    jobs.record(run_id=run_id, content_id=item["id"], job_name=CONTENT_JOB, state=JobState.FAILED,
                error="narration: tts: quota gone")  # fmt: skip
    jobs.record_details(
        run_id,
        [
            StepRecord("script", "succeeded", start, start + timedelta(seconds=1), 1),
            StepRecord("narration", "failed", start, start + timedelta(seconds=3), 3,
                       "tts: quota gone"),
        ],
        [CheckRecord("content_analysis_safety_precheck", "content_analysis", True, "ok")],
    )  # fmt: skip
    [job] = (await api.get(f"/api/v1/contents/{item['id']}/jobs", headers=s.owner.headers)).json()[
        "items"
    ]
    assert (job["state"], job["attempts"], job["error"]) == (
        "failed",
        3,
        "narration: tts: quota gone",
    )
    assert [(st["step"], st["state"], st["attempts"], st["duration_s"]) for st in job["steps"]] == [
        ("script", "succeeded", 1, 1.0),
        ("narration", "failed", 3, 3.0),
    ]
    detail = (await api.get(f"/api/v1/contents/{item['id']}", headers=s.owner.headers)).json()
    assets = {a["step"]: a for a in detail["assets"]}
    assert assets["narration"]["error"] == "tts: quota gone"
    assert assets["narration"]["run_id"] == run_id
    assert assets["video"]["state"] == "not_run"
    assert detail["safety"] == [
        {"check": "content_analysis_safety_precheck", "asset": "content_analysis",
         "passed": True, "description": "ok", "run_id": run_id}
    ]  # fmt: skip


# review and publication ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "editor"])
async def test_approving_needs_an_owner_or_admin(
    api: ApiClient, contents_app: FastAPI, role: str
) -> None:
    s = await studio(api, review_required=True)
    member = await api.member(s.owner, role)
    item = await new_item(api, s.owner, s.project_id)
    pipeline_made(contents_app, item["id"])
    response = await api.post(f"/api/v1/contents/{item['id']}/approve", headers=member.headers)
    assert response.status_code == 403
    admin = await api.member(s.owner, "admin")
    assert (
        await api.post(f"/api/v1/contents/{item['id']}/approve", headers=admin.headers)
    ).is_success


async def test_approving_an_item_that_is_not_ready_is_a_409_naming_its_state(
    api: ApiClient,
) -> None:
    s = await studio(api, review_required=True)
    item = await new_item(api, s.owner, s.project_id)
    response = await api.post(f"/api/v1/contents/{item['id']}/approve", headers=s.owner.headers)
    assert response.status_code == 409
    assert response.json()["detail"] == "Only a ready item can be approved; it is draft"


async def test_approval_publishes_to_the_channels_that_publish_on_approval(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api, review_required=True)
    item = await new_item(api, s.owner, s.project_id)
    pipeline_made(contents_app, item["id"])
    response = await api.post(
        f"/api/v1/contents/{item['id']}/approve", json={"note": "Good to go"},
        headers=s.owner.headers,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["item"]["approved_at"] is not None
    assert body["publication"]["job"] == PUBLISH_JOB
    run = dagster.runs[-1]
    assert (run.job, run.tags[CHANNELS_TAG]) == (PUBLISH_JOB, s.channel["slug"])
    uploads = (
        await api.get(f"/api/v1/contents/{item['id']}/uploads", headers=s.owner.headers)
    ).json()
    assert [(u["channel"], u["state"], u["attempts"]) for u in uploads["items"]] == [
        (s.channel["slug"], "pending", 0)
    ]
    detail = (await api.get(f"/api/v1/contents/{item['id']}", headers=s.owner.headers)).json()
    assert detail["review"]["decision"] == "approved"
    assert detail["review"]["note"] == "Good to go"
    assert detail["review"]["by"] == s.owner.user_id
    # the approval sensor leaves an organisation's approved items to the API
    assert ContentRepository(contents_app.state.api.database).approved_awaiting_publication() == []


async def test_approval_waits_for_a_person_when_no_channel_publishes_on_approval(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api, review_required=True)
    manual = await api.post(
        f"/api/v1/projects/{s.project_id}/channels",
        json={"platform": "local", "name": "Manual", "settings": {"auto_publish": False}},
        headers=s.owner.headers,
    )
    item = await new_item(api, s.owner, s.project_id, channels=[manual.json()["id"]])
    pipeline_made(contents_app, item["id"])
    body = (
        await api.post(f"/api/v1/contents/{item['id']}/approve", headers=s.owner.headers)
    ).json()
    assert body["publication"] is None
    assert dagster.runs == []
    published = await api.post(f"/api/v1/contents/{item['id']}/publish", headers=s.owner.headers)
    assert published.status_code == 202
    assert dagster.runs[-1].tags[CHANNELS_TAG] == manual.json()["slug"]


async def test_rejection_sends_the_item_back_to_draft_with_the_reason(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api, review_required=True)
    item = await new_item(api, s.owner, s.project_id)
    pipeline_made(contents_app, item["id"])
    path = f"/api/v1/contents/{item['id']}"
    rejected = await api.post(
        f"{path}/reject", json={"reason": "Wrong ferry count"}, headers=s.owner.headers
    )
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert (body["state"], body["state_reason"]) == ("draft", "Wrong ferry count")
    assert body["review"]["decision"] == "rejected"
    assert dagster.runs == []
    again = await api.post(f"{path}/reject", json={"reason": "Again"}, headers=s.owner.headers)
    assert again.status_code == 409
    assert (await api.post(f"{path}/reject", json={}, headers=s.owner.headers)).status_code == 422


async def test_publishing_before_approval_in_a_review_project_is_a_409(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api, review_required=True)
    item = await new_item(api, s.owner, s.project_id)
    path = f"/api/v1/contents/{item['id']}/publish"
    assert (await api.post(path, headers=s.owner.headers)).json()["detail"] == (
        "Only a ready item can be published; it is draft"
    )
    pipeline_made(contents_app, item["id"])
    response = await api.post(path, headers=s.owner.headers)
    assert response.status_code == 409
    assert "approve the item" in response.json()["detail"]
    assert dagster.runs == []


async def test_publishing_to_chosen_channels_and_the_upload_records(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    pipeline_made(contents_app, item["id"])
    path = f"/api/v1/contents/{item['id']}/publish"
    unknown = await api.post(
        path, json={"channels": ["0123456789abcdef0123456789abcdef"]}, headers=s.owner.headers
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "#/channels"
    response = await api.post(path, json={"channels": [s.channel["id"]]}, headers=s.owner.headers)
    assert response.status_code == 202
    assert response.json()["job"] == PUBLISH_JOB

    # what the run-status sensors record when the run ends
    database = contents_app.state.api.database
    uploads = UploadRepository(database)
    uploads.failed(item["id"], [s.channel["slug"]], "local: disk full")
    uploads.published(
        item["id"],
        [
            PublishReceipt(
                channel=s.channel["slug"], url="file:///channels/main/v.mp4", published_at=utcnow()
            )
        ],
    )
    [upload] = (
        await api.get(f"/api/v1/contents/{item['id']}/uploads", headers=s.owner.headers)
    ).json()["items"]
    assert (upload["state"], upload["url"], upload["error"], upload["attempts"]) == (
        "published", "file:///channels/main/v.mp4", None, 2
    )  # fmt: skip


async def test_regenerating_a_ready_item_needs_a_new_approval(
    api: ApiClient, contents_app: FastAPI
) -> None:
    s = await studio(api, review_required=True)
    item = await new_item(api, s.owner, s.project_id)
    pipeline_made(contents_app, item["id"])
    await api.post(f"/api/v1/contents/{item['id']}/approve", headers=s.owner.headers)
    runs_ended(contents_app, item["id"])
    generated = await api.post(f"/api/v1/contents/{item['id']}/generate", headers=s.owner.headers)
    assert generated.status_code == 202
    status = ContentRepository(contents_app.state.api.database).status(item["id"])
    assert (status.state, status.approved_at) == (ContentState.READY, None)


async def test_the_apps_background_loop_submits_what_dagster_missed(
    app_factory,
    dagster: FakeDagster,  # type: ignore[no-untyped-def]
) -> None:
    app = app_factory(dagster_graphql_url=dagster.graphql_url, dagster_submit_interval_seconds=0.1)
    async with client_for(app) as http:
        api = ApiClient(http)
        s = await studio(api)
        item = await new_item(api, s.owner, s.project_id)
        dagster.down()
        response = await api.post(
            f"/api/v1/contents/{item['id']}/generate", headers=s.owner.headers
        )
        assert response.status_code == 202
        async with app.router.lifespan_context(app):
            dagster.up()
            for _ in range(100):
                if dagster.runs:
                    break
                await anyio.sleep(0.05)
        [run] = dagster.runs
        assert run.tags[REQUEST_TAG] == response.json()["id"]
