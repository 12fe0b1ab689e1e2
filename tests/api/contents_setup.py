"""What the content tests share: a fake Dagster, an app that submits to it, an organisation
with a project and a local channel, and the pipeline's part played through the repositories
(the API tests run no Dagster; ``test_runs_dagster.py`` does)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from autoclip_api.dagster.outbox import RunSubmitter
from autoclip_core.db.content import ContentRepository
from autoclip_core.db.jobs import JobRepository
from autoclip_core.schemas import Scene, Script
from autoclip_core.states import ContentState, JobState
from tests.api.conftest import client_for, outbox_of
from tests.api.helpers import Account, ApiClient
from tests.fakes.dagster_graphql import FakeDagster, running_fake_dagster

ARTICLE = (
    "The city council approved a new plan for the harbour on Monday. The plan adds two ferry "
    "lines, a cycle path along the water and a small park where the old warehouses stand. "
    "Work starts in the spring and should take three years. The council expects the ferries "
    "to carry four thousand people a day once both lines run. Shop owners near the harbour "
    "welcomed the plan, saying more visitors would help them through the quiet winter months. "
    "Some residents worry about noise during the building work and asked for quiet hours at "
    "night. The council promised to publish a schedule before any work begins. The cost is "
    "shared between the city and the regional government, which will pay for the ferries. "
    "A public meeting about the park's design is planned for next month at the town hall."
)

SCRIPT = Script(
    title="A new harbour",
    hook="Two ferries, a park and a cycle path are coming to the harbour.",
    scenes=[
        Scene(narration="The council approved the plan on Monday.", on_screen_text="Approved",
              visual_query="council vote"),
        Scene(narration="Work starts in spring and takes three years.", on_screen_text="3 years",
              visual_query="construction"),
        Scene(narration="Four thousand people a day could ride the ferries.",
              on_screen_text="4,000 a day", visual_query="ferry"),
    ],
    call_to_action="Follow for more city news.",
    hashtags=["#harbour"],
    description="The harbour plan in short.",
    language="en",
)  # fmt: skip


@pytest.fixture
def dagster() -> Iterator[FakeDagster]:
    with running_fake_dagster() as fake:
        yield fake


@pytest.fixture
def contents_app(app_factory: Callable[..., FastAPI], dagster: FakeDagster) -> FastAPI:
    """The app, submitting to the fake Dagster; no background loop (tests submit)."""
    return app_factory(dagster_graphql_url=dagster.graphql_url, dagster_submit_interval_seconds=0)


@pytest.fixture
async def api(contents_app: FastAPI) -> AsyncIterator[ApiClient]:
    async with client_for(contents_app) as http:
        yield ApiClient(http, outbox_of(contents_app))


@dataclass
class Studio:
    """An organisation's owner with a project that has one local channel."""

    owner: Account
    project: dict[str, Any]
    channel: dict[str, Any]

    @property
    def project_id(self) -> str:
        return str(self.project["id"])


async def studio(api: ApiClient, *, review_required: bool = False, **project: Any) -> Studio:
    owner = await api.register()
    response = await api.post(
        "/api/v1/projects",
        json={"name": "Harbour news", "review_required": review_required, **project},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    channel = await api.post(
        f"/api/v1/projects/{created['id']}/channels",
        json={"platform": "local", "name": "Main"},
        headers=owner.headers,
    )
    assert channel.status_code == 201, channel.text
    project_now = await api.get(f"/api/v1/projects/{created['id']}", headers=owner.headers)
    return Studio(owner, project_now.json(), channel.json())


async def new_item(
    api: ApiClient, account: Account, project_id: str, **fields: Any
) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/contents",
        json={"project_id": project_id, "text": ARTICLE, **fields},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def submitter(app: FastAPI) -> RunSubmitter:
    return RunSubmitter(app.state.api.database, app.state.api.dagster)


def runs_ended(app: FastAPI, content_id: str) -> None:
    """The item's pending and running jobs completed, as the run-status sensors record it."""
    jobs = JobRepository(app.state.api.database)
    for job in jobs.records(content_id):
        if job.active:
            jobs.record(
                run_id=job.run_id or f"run-{job.id}",
                content_id=content_id,
                job_name=job.job_name,
                state=JobState.COMPLETED,
                request_id=job.id,
            )


def pipeline_made(app: FastAPI, content_id: str, script: Script = SCRIPT) -> None:
    """What a successful content run leaves in the app database (the run-status sensors and
    the ``script`` asset write it): the item ``ready`` with its script, its jobs finished."""
    content = ContentRepository(app.state.api.database)
    content.record_script(content_id, script)
    runs_ended(app, content_id)
    if content.status(content_id).state != ContentState.PROCESSING:
        content.set_state(content_id, ContentState.PROCESSING)
    content.set_state(content_id, ContentState.READY)
