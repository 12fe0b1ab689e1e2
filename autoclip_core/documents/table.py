"""The default backend: a ``documents`` table in the app database (SQLite or PostgreSQL),
the body in a JSON column."""

from __future__ import annotations

from sqlalchemy import insert, select

from autoclip_core.db.engine import Database, aware
from autoclip_core.db.models import StoredDocument
from autoclip_core.documents.base import Document, DocumentStore, check_limit


class TableDocumentStore(DocumentStore):
    def __init__(self, database: Database, *, owned: bool = False) -> None:
        self.database = database
        self._owned = owned

    @classmethod
    def open(cls, url: str) -> TableDocumentStore:
        return cls(Database.open(url), owned=True)

    def _insert(self, documents: list[Document]) -> None:
        with self.database.transaction() as s:
            s.execute(
                insert(StoredDocument),
                [
                    {"id": d.id, "kind": d.kind, "content_id": d.content_id,
                     "created_at": d.created_at, "body": d.body}
                    for d in documents
                ],
            )  # fmt: skip

    def get(self, document_id: str) -> Document | None:
        with self.database.transaction() as s:
            row = s.get(StoredDocument, document_id)
            return None if row is None else _document(row)

    def find(
        self, *, kind: str | None = None, content_id: str | None = None, limit: int = 100
    ) -> list[Document]:
        statement = select(StoredDocument)
        if kind is not None:
            statement = statement.where(StoredDocument.kind == kind)
        if content_id is not None:
            statement = statement.where(StoredDocument.content_id == content_id)
        statement = statement.order_by(StoredDocument.created_at, StoredDocument.id).limit(
            check_limit(limit)
        )
        with self.database.transaction() as s:
            return [_document(row) for row in s.scalars(statement)]

    def close(self) -> None:
        if self._owned:
            self.database.dispose()


def _document(row: StoredDocument) -> Document:
    return Document(row.id, row.kind, row.content_id, aware(row.created_at), dict(row.body))
