"""The document store: raw AI outputs and events (a prompt and the model's answer, a safety
verdict, a provider call log), kept as JSON documents beside the relational data.

``base.py`` is the interface (:class:`DocumentStore`), ``table.py`` the default backend (a JSON
table in the app database), ``mongodb.py`` MongoDB through pymongo
(``AUTOCLIP_DOCUMENT_STORE=mongodb``, ``AUTOCLIP_MONGODB_URL``); ``choice.py``'s :func:`open_store`
picks one.
"""

from __future__ import annotations

from autoclip_core.documents.base import Document, DocumentStore
from autoclip_core.documents.choice import open_store

__all__ = ["Document", "DocumentStore", "open_store"]
