"""Which document store the settings chose: the app database's table, or MongoDB."""

from __future__ import annotations

from autoclip_core.documents.base import Backend, DocumentStore


def open_store(
    backend: Backend, *, database_url: str, mongodb_url: str | None = None
) -> DocumentStore:
    """The chosen backend: the app database at ``database_url`` (``table``), or the MongoDB
    at ``mongodb_url`` (its database named in the URL's path, ``autoclip`` when it names
    none)."""
    if backend == "mongodb":
        if not mongodb_url:
            raise ValueError("AUTOCLIP_DOCUMENT_STORE=mongodb needs AUTOCLIP_MONGODB_URL")
        from autoclip_core.documents.mongodb import MongoDocumentStore

        return MongoDocumentStore.connect(mongodb_url)
    from autoclip_core.documents.table import TableDocumentStore

    return TableDocumentStore.open(database_url)
