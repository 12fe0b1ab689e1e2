"""The ingestion methods of ContentStore, on SQLite and PostgreSQL (``store`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from autoclip_core.schemas import SourceItem
from autoclip_core.states import ContentState
from autoclip_core.store import ContentStore


def item(n: int, project: str = "news", **extra: object) -> SourceItem:
    return SourceItem(
        id=f"{project}-{n:012d}", project=project, source="feed", url=f"https://ex.com/{n}",
        title=f"Story {n}", text=f"Text {n}.", **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def test_new_items_are_stored_in_one_go_and_known_ones_skipped(store: ContentStore) -> None:
    store.ensure_project("news")
    assert store.register_new_items([item(1), item(2)]) == [item(1).id, item(2).id]
    assert store.register_new_items([item(2), item(3), item(3)]) == [item(3).id]
    assert store.known_item_ids([item(1).id, item(9).id, item(3).id]) == {item(1).id, item(3).id}
    assert store.status(item(3).id).state == ContentState.DRAFT
    assert store.events(item(3).id) == [(None, "draft", None)]


def test_an_unknown_project_is_refused(store: ContentStore) -> None:
    with pytest.raises(LookupError, match="unknown project"):
        store.register_new_items([item(1, project="nope")])


def test_dedupe_rows_carry_canonical_urls_and_fingerprints(store: ContentStore) -> None:
    store.ensure_project("news")
    store.ensure_project("other")
    store.register_new_items([
        item(1, canonical_url="https://ex.com/1", fingerprint="ab" * 16),
        item(2),  # stored before normalisation existed: no canonical URL in the payload
        item(3, project="other"),
    ])  # fmt: skip
    rows = store.dedupe_rows("news", datetime.now(UTC) - timedelta(days=1))
    assert rows == [
        (item(1).id, "https://ex.com/1", "https://ex.com/1", "ab" * 16),
        (item(2).id, "https://ex.com/2", None, None),
    ]
    assert store.dedupe_rows("news", datetime.now(UTC) + timedelta(days=1)) == []


def test_items_in_states_since(store: ContentStore) -> None:
    store.ensure_project("news")
    store.register_new_items([item(1), item(2)])
    store.set_state(item(2).id, ContentState.PROCESSING)
    since = datetime.now(UTC) - timedelta(hours=1)
    drafts = store.items_in_states("news", [ContentState.DRAFT], since)
    assert [i.id for i, _ in drafts] == [item(1).id]
    assert store.items_in_states("news", [ContentState.PUBLISHED], since) == []
