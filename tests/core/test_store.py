from __future__ import annotations

import pytest
from sqlalchemy import inspect

from autoclip_core.schemas import SourceItem
from autoclip_core.states import ContentState, InvalidTransitionError, JobState
from autoclip_core.store import ContentStore, UnknownContentError


def make_item(project: str = "p", n: int = 1) -> SourceItem:
    return SourceItem(
        id=f"{project}-{n:012d}",
        project=project,
        source="feed.xml",
        url=f"https://news.example.org/{n}",
        title=f"Story {n}",
        text="Body text.",
    )


def test_migration_creates_the_app_tables(store: ContentStore) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"projects", "content_items", "jobs", "content_events", "alembic_version"} <= tables


def test_registered_item_starts_in_draft_and_is_registered_once(store: ContentStore) -> None:
    store.ensure_project("p")
    assert store.register_item(make_item()) is True
    assert store.register_item(make_item()) is False
    assert store.status(make_item().id).state == ContentState.DRAFT
    assert store.source_item(make_item().id) == make_item()


def test_item_of_unknown_project_is_refused(store: ContentStore) -> None:
    with pytest.raises(LookupError, match="unknown project"):
        store.register_item(make_item(project="nope"))


def test_state_changes_follow_the_machine_and_are_audited(store: ContentStore) -> None:
    store.ensure_project("p")
    item = make_item()
    store.register_item(item)
    with pytest.raises(InvalidTransitionError):
        store.set_state(item.id, ContentState.PUBLISHED)
    store.set_state(item.id, ContentState.PROCESSING)
    store.set_state(item.id, ContentState.FAILED, "safety pre-check: pii_email")
    status = store.status(item.id)
    assert status.state == ContentState.FAILED
    assert status.reason == "safety pre-check: pii_email"
    assert store.events(item.id) == [
        (None, "draft", None),
        ("draft", "processing", None),
        ("processing", "failed", "safety pre-check: pii_email"),
    ]


def test_job_rows_advance_and_tolerate_a_missed_start(store: ContentStore) -> None:
    store.ensure_project("p")
    item = make_item()
    store.register_item(item)
    store.record_job(
        run_id="r1", content_id=item.id, job_name="content_job", state=JobState.PENDING
    )
    store.record_job(
        run_id="r1", content_id=item.id, job_name="content_job", state=JobState.RUNNING
    )
    store.record_job(
        run_id="r1", content_id=item.id, job_name="content_job", state=JobState.COMPLETED
    )
    store.record_job(
        run_id="r2", content_id=item.id, job_name="content_job", state=JobState.FAILED, error="boom"
    )
    assert store.jobs(item.id) == [
        ("r1", "content_job", "completed", None),
        ("r2", "content_job", "failed", "boom"),
    ]
    # a late, stale event (queued/running after completion) changes nothing
    assert not store.record_job(
        run_id="r1", content_id=item.id, job_name="content_job", state=JobState.RUNNING
    )
    assert store.jobs(item.id)[0][2] == "completed"


def test_only_ready_items_can_be_approved(store: ContentStore) -> None:
    store.ensure_project("p", review_required=True)
    item = make_item()
    store.register_item(item)
    with pytest.raises(ValueError, match="only a ready item"):
        store.approve(item.id, by="editor@example.org")
    store.set_state(item.id, ContentState.PROCESSING)
    store.set_state(item.id, ContentState.READY)
    assert store.approved_awaiting_publication() == []
    store.approve(item.id, by="editor")
    assert [s.id for s in store.approved_awaiting_publication()] == [item.id]


def test_project_settings_are_updated_in_place(store: ContentStore) -> None:
    store.ensure_project("p")
    settings = store.ensure_project("p", review_required=True, blocked_terms=["gambling"])
    assert settings.review_required is True
    assert settings.blocked_terms == ("gambling",)
    store.register_item(make_item())
    assert store.project_of(make_item().id) == settings


def test_unknown_content_id_raises(store: ContentStore) -> None:
    with pytest.raises(UnknownContentError):
        store.status("missing")
