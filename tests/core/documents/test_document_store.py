"""One contract for every document-store backend: the JSON table on SQLite and on PostgreSQL,
and MongoDB through pymongo's API (mongomock: no MongoDB server can run here)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import mongomock
import pytest

from autoclip_core.db.engine import Database
from autoclip_core.documents import DocumentStore, open_store
from autoclip_core.documents.mongodb import MongoDocumentStore
from autoclip_core.documents.table import TableDocumentStore

EXCHANGE = {
    "provider": "gemini",
    "model": "gemini-2.5-flash",
    "request": {
        "system": "Write a script.",
        "contents": [{"role": "user", "parts": [{"text": "항구"}]}],
    },
    "response": {"candidates": [{"content": {"parts": [{"text": '{"title": "A"}'}]}}]},
}


@pytest.fixture(params=["table", "mongodb"])
def store(request: pytest.FixtureRequest, db_url: str) -> Iterator[DocumentStore]:
    """Each backend once: the table on SQLite and on PostgreSQL (``db_url``'s two), MongoDB's
    API (mongomock) beside the first."""
    if request.param == "table":
        request.getfixturevalue("db")  # the app database at db_url, migrated
        table = TableDocumentStore.open(db_url)
        yield table
        table.close()
        return
    if db_url.startswith("postgresql"):
        pytest.skip("the MongoDB backend runs once, beside SQLite")
    with mongomock.patch(servers=(("mongo.test", 27017),)):
        mongo = open_store("mongodb", database_url=db_url, mongodb_url="mongodb://mongo.test/ai")
        yield mongo
        mongo.close()


def test_a_document_comes_back_as_it_was_put_in(store: DocumentStore) -> None:
    added = store.add("llm_exchange", EXCHANGE, content_id="news-1")
    assert len(added.id) == 32
    assert added.created_at.tzinfo is not None
    assert store.get(added.id) == added
    assert added.body == EXCHANGE
    assert store.get("0" * 32) is None


def test_bodies_are_stored_as_plain_json(store: DocumentStore) -> None:
    when = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    added = store.add("event", {"at": when, "n": 1.5, "tags": ("a", "b"), "none": None})
    assert store.get(added.id).body == {  # type: ignore[union-attr]
        "at": "2026-12-06 08:00:00+00:00", "n": 1.5, "tags": ["a", "b"], "none": None,
    }  # fmt: skip


def test_documents_are_found_by_kind_and_item_oldest_first(store: DocumentStore) -> None:
    first = store.add("safety_verdict", {"passed": True}, content_id="news-1")
    time.sleep(0.002)
    second = store.add("llm_exchange", EXCHANGE, content_id="news-1")
    time.sleep(0.002)
    third = store.add("safety_verdict", {"passed": False}, content_id="news-2")
    many = store.add_many("vendor_calls", [{"n": 1}, {"n": 2}])
    assert store.find(content_id="news-1") == [first, second]
    assert store.find(kind="safety_verdict") == [first, third]
    assert store.find(kind="safety_verdict", content_id="news-2") == [third]
    assert [d.body["n"] for d in store.find(kind="vendor_calls")] == [1, 2]
    assert store.find(kind="safety_verdict", limit=1) == [first]
    assert store.find(content_id="news-9") == []
    assert [d.content_id for d in many] == [None, None]
    assert store.add_many("vendor_calls", []) == []
    with pytest.raises(ValueError, match="limit must be"):
        store.find(limit=0)
    with pytest.raises(ValueError, match="needs a kind"):
        store.add("", {})


def test_the_backend_is_chosen_by_setting(db: Database) -> None:
    table = open_store("table", database_url=db.url)
    assert isinstance(table, TableDocumentStore)
    table.close()
    with pytest.raises(ValueError, match="AUTOCLIP_MONGODB_URL"):
        open_store("mongodb", database_url=db.url)
    with mongomock.patch(servers=(("mongo.test", 27017),)):
        mongo = open_store("mongodb", database_url=db.url, mongodb_url="mongodb://mongo.test")
        assert isinstance(mongo, MongoDocumentStore)
        assert mongo.collection.full_name == "autoclip.documents"
        indexes = {
            tuple(k for k, _ in v["key"]) for v in mongo.collection.index_information().values()
        }
        assert {("content_id", "created_at"), ("kind", "created_at")} <= indexes


def test_keep_logs_a_store_that_fails_instead_of_raising(
    store: DocumentStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert store.keep("safety_verdict", [{"passed": True}], content_id="news-1")

    def down(documents: list[object]) -> None:
        raise ConnectionError("store unreachable")

    monkeypatch.setattr(store, "_insert", down)
    with caplog.at_level(logging.WARNING, logger="autoclip_core.documents"):
        assert not store.keep("safety_verdict", [{"passed": False}], content_id="news-1")
    assert "safety_verdict documents of news-1 not stored: ConnectionError" in caplog.text
    with pytest.raises(ConnectionError):
        store.add("safety_verdict", {"passed": False})
