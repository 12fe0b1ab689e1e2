"""MongoDB through pymongo: one ``documents`` collection, the document's id as ``_id``,
indexed for the two ways documents are read (by content item, by kind; both in time order).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pymongo
from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.uri_parser import parse_uri

from autoclip_core.documents.base import Document, DocumentStore, check_limit

COLLECTION = "documents"
DEFAULT_DATABASE = "autoclip"


class MongoDocumentStore(DocumentStore):
    def __init__(self, collection: Collection[Any], client: MongoClient[Any] | None = None) -> None:
        self.collection = collection
        self._client = client
        collection.create_index([("content_id", ASCENDING), ("created_at", ASCENDING)])
        collection.create_index([("kind", ASCENDING), ("created_at", ASCENDING)])

    @classmethod
    def connect(cls, url: str) -> MongoDocumentStore:
        database = parse_uri(url).get("database") or DEFAULT_DATABASE
        client: MongoClient[Any] = pymongo.MongoClient(
            url, tz_aware=True, serverSelectionTimeoutMS=5000
        )
        return cls(client[database][COLLECTION], client)

    def _insert(self, documents: list[Document]) -> None:
        self.collection.insert_many(
            [
                {"_id": d.id, "kind": d.kind, "content_id": d.content_id,
                 "created_at": d.created_at, "body": d.body}
                for d in documents
            ],
            ordered=True,
        )  # fmt: skip

    def get(self, document_id: str) -> Document | None:
        found = self.collection.find_one({"_id": document_id})
        return None if found is None else _document(found)

    def find(
        self, *, kind: str | None = None, content_id: str | None = None, limit: int = 100
    ) -> list[Document]:
        query: dict[str, Any] = {}
        if kind is not None:
            query["kind"] = kind
        if content_id is not None:
            query["content_id"] = content_id
        cursor = (
            self.collection.find(query)
            .sort([("created_at", ASCENDING), ("_id", ASCENDING)])
            .limit(check_limit(limit))
        )
        return [_document(found) for found in cursor]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _document(found: dict[str, Any]) -> Document:
    created = found["created_at"]
    if created.tzinfo is None:  # a client without tz_aware reads naive UTC
        created = created.replace(tzinfo=UTC)
    return Document(found["_id"], found["kind"], found["content_id"], created, found["body"])
