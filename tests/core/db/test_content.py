"""Content items and their audit trail, on SQLite and PostgreSQL (``db`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from autoclip_core.db.content import (
    ContentFilter,
    ContentRepository,
    ContentStateError,
    UnknownContentError,
)
from autoclip_core.db.engine import Database
from autoclip_core.db.media import MediaRepository, media_file
from autoclip_core.db.models import Organization, Project, Source
from autoclip_core.db.projects import ProjectRepository
from autoclip_core.states import ContentState, InvalidTransitionError
from tests.core.db.helpers import item


@pytest.fixture
def content(db: Database) -> ContentRepository:
    ProjectRepository(db).ensure("news")
    return ContentRepository(db)


def test_registered_item_starts_in_draft_and_is_registered_once(
    content: ContentRepository,
) -> None:
    assert content.register_item(item(1)) is True
    assert content.register_item(item(1)) is False
    assert content.status(item(1).id).state == ContentState.DRAFT
    assert content.source_item(item(1).id) == item(1)


def test_item_of_unknown_project_is_refused(content: ContentRepository) -> None:
    with pytest.raises(LookupError, match="unknown project"):
        content.register_item(item(1, project="nope"))
    with pytest.raises(LookupError, match="unknown project"):
        content.register_new_items([item(1, project="nope")])


def test_state_changes_follow_the_machine_and_are_audited(content: ContentRepository) -> None:
    content.register_item(item(1))
    with pytest.raises(InvalidTransitionError):
        content.set_state(item(1).id, ContentState.PUBLISHED)
    content.set_state(item(1).id, ContentState.PROCESSING)
    content.set_state(item(1).id, ContentState.FAILED, "safety pre-check: pii_email")
    status = content.status(item(1).id)
    assert status.state == ContentState.FAILED
    assert status.reason == "safety pre-check: pii_email"
    assert content.events(item(1).id) == [
        (None, "draft", None),
        ("draft", "processing", None),
        ("processing", "failed", "safety pre-check: pii_email"),
    ]


def test_only_ready_items_can_be_approved(content: ContentRepository) -> None:
    content.register_item(item(1))
    with pytest.raises(ValueError, match="only a ready item"):
        content.approve(item(1).id, by="editor@example.org")
    content.set_state(item(1).id, ContentState.PROCESSING)
    content.set_state(item(1).id, ContentState.READY)
    assert content.approved_awaiting_publication() == []
    content.approve(item(1).id, by="editor")
    assert [s.id for s in content.approved_awaiting_publication()] == [item(1).id]


def test_unknown_content_id_raises(content: ContentRepository) -> None:
    with pytest.raises(UnknownContentError):
        content.status("missing")


def test_new_items_are_stored_in_one_go_and_known_ones_skipped(
    content: ContentRepository,
) -> None:
    assert content.register_new_items([item(1), item(2)]) == [item(1).id, item(2).id]
    assert content.register_new_items([item(2), item(3), item(3)]) == [item(3).id]
    assert content.known_item_ids([item(1).id, item(9).id, item(3).id]) == {
        item(1).id,
        item(3).id,
    }
    assert content.status(item(3).id).state == ContentState.DRAFT
    assert content.events(item(3).id) == [(None, "draft", None)]


def test_a_concurrently_stored_item_is_not_registered_twice(
    content: ContentRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    content.register_new_items([item(1)])
    calls = {"n": 0}
    real = content.known_item_ids

    def stale_once(ids):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return set() if calls["n"] == 1 else real(ids)  # the other writer's row not yet seen

    monkeypatch.setattr(content, "known_item_ids", stale_once)
    assert content.register_new_items([item(1), item(2)]) == [item(2).id]
    assert calls["n"] == 2


def test_dedupe_rows_carry_canonical_urls_and_fingerprints(
    db: Database, content: ContentRepository
) -> None:
    ProjectRepository(db).ensure("other")
    content.register_new_items([
        item(1, canonical_url="https://ex.com/1", fingerprint="ab" * 16),
        item(2),  # stored before normalisation existed: no canonical URL in the payload
        item(3, project="other"),
    ])  # fmt: skip
    rows = content.dedupe_rows("news", datetime.now(UTC) - timedelta(days=1))
    assert rows == [
        (item(1).id, "https://ex.com/1", "https://ex.com/1", "ab" * 16),
        (item(2).id, "https://ex.com/2", None, None),
    ]
    assert content.dedupe_rows("news", datetime.now(UTC) + timedelta(days=1)) == []


def test_items_in_states_since_and_published_ones(content: ContentRepository) -> None:
    content.register_new_items([item(1), item(2)])
    for state in (ContentState.PROCESSING, ContentState.READY, ContentState.PUBLISHED):
        content.set_state(item(2).id, state)
    since = datetime.now(UTC) - timedelta(hours=1)
    drafts = content.items_in_states("news", [ContentState.DRAFT], since)
    assert [i.id for i, _ in drafts] == [item(1).id]
    assert content.items_in_states("news", [ContentState.FAILED], since) == []
    assert content.published_item_ids("news") == [item(2).id]


def test_pushed_items_carry_their_source_and_are_listed_since(
    db: Database, content: ContentRepository
) -> None:
    project = ProjectRepository(db).ensure("news")
    with db.transaction() as s:
        s.add(Source(id="w" * 32, project_id=project.id, origin="api", kind="webhook",
                     name="CMS", config={}, enabled=True, secret_nonce="n"))  # fmt: skip
    content.register_new_items([item(1)])  # polled
    assert content.register_new_items([item(2), item(3)], source_id="w" * 32) == [
        item(2).id, item(3).id]  # fmt: skip
    pushed = content.pushed_items_since(datetime.now(UTC) - timedelta(minutes=1))
    assert [(p.id, p.project, p.source_id) for p in pushed] == [
        (item(2).id, "news", "w" * 32), (item(3).id, "news", "w" * 32)]  # fmt: skip
    assert pushed[0].created_at.tzinfo is not None
    assert content.pushed_items_since(datetime.now(UTC) + timedelta(minutes=1)) == []


def test_on_a_session_the_caller_commits(db: Database) -> None:
    ProjectRepository(db).ensure("news")
    with Session(db.engine) as session:
        repository = ContentRepository(session)
        repository.register_item(item(1))
        assert repository.known_item_ids([item(1).id]) == {item(1).id}
    # closed without a commit: rolled back
    assert ContentRepository(db).known_item_ids([item(1).id]) == set()


# the API's reads and writes ---------------------------------------------------------------------


def org_project(db: Database, slug: str) -> Project:
    with db.transaction() as s:
        org = Organization(name=slug)
        s.add(org)
        s.flush()
        project = Project(org_id=org.id, slug=slug, name=slug, blocked_terms=[], channels=[])
        s.add(project)
        s.flush()
        s.expunge(project)
        return project


def test_items_are_readable_only_by_their_projects_organisation(db: Database) -> None:
    mine, theirs = org_project(db, "mine"), org_project(db, "theirs")
    content = ContentRepository(db)
    with db.transaction() as s:
        ContentRepository(s).create(s.merge(mine), item(1, project="mine"))
        ContentRepository(s).create(s.merge(theirs), item(2, project="theirs"))
    assert content.get_readable(mine.org_id, item(1, project="mine").id) is not None
    assert content.get_readable(mine.org_id, item(2, project="theirs").id) is None
    assert content.get_readable(None, item(1, project="mine").id) is None
    page = content.list_readable(
        mine.org_id, ContentFilter(), ["id", "title"], after=None, limit=10
    )
    assert [row.id for row in page.rows] == [item(1, project="mine").id]


def test_pages_follow_each_other_without_gaps_or_repeats(db: Database) -> None:
    project = org_project(db, "mine")
    with db.transaction() as s:
        for n in range(7):
            ContentRepository(s).create(s.merge(project), item(n, project="mine"))
    content = ContentRepository(db)
    seen, after = [], None
    while True:
        page = content.list_readable(
            project.org_id, ContentFilter(project_id=project.id), ["id"], after=after, limit=3
        )
        seen += [row.id for row in page.rows]
        if page.next_after is None:
            break
        after = page.next_after
    assert sorted(seen) == sorted(item(n, project="mine").id for n in range(7))
    assert len(seen) == 7


def test_review_decisions_need_a_ready_item_and_a_rejection_returns_it_to_draft(
    content: ContentRepository,
) -> None:
    content.register_item(item(1))
    with pytest.raises(ContentStateError) as refused:
        content.reject(item(1).id, by="u", reason="no")
    assert refused.value.state == ContentState.DRAFT
    content.set_state(item(1).id, ContentState.PROCESSING)
    content.set_state(item(1).id, ContentState.READY)
    content.approve(item(1).id, by="u", note="fine")
    content.reject(item(1).id, by="u", reason="the numbers are wrong")
    status = content.status(item(1).id)
    assert (status.state, status.reason, status.approved_at) == (
        ContentState.DRAFT, "the numbers are wrong", None
    )  # fmt: skip
    assert content.events(item(1).id)[-1] == ("ready", "draft", "the numbers are wrong")


def test_deleting_an_item_hands_back_only_the_files_no_other_item_uses(db: Database) -> None:
    project = org_project(db, "mine")
    with db.transaction() as s:
        one = ContentRepository(s).create(s.merge(project), item(1, project="mine"))
        ContentRepository(s).create(s.merge(project), item(2, project="mine"))
    media = MediaRepository(db)
    media.record(
        item(1, project="mine").id,
        {
            "video": media_file("v/own.mp4", "video/mp4", 1),
            "audio": media_file("n/shared.wav", "audio/wav", 1),
        },
    )
    media.record(item(2, project="mine").id, {"audio": media_file("n/shared.wav", "audio/wav", 1)})
    with db.transaction() as s:
        unshared = ContentRepository(s).delete(s.merge(one))
    assert unshared == ["v/own.mp4"]
    assert ContentRepository(db).known_item_ids([item(1, project="mine").id]) == set()
    assert media.of_content(item(2, project="mine").id)["audio"].storage_key == "n/shared.wav"
