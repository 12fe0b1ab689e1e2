"""The webhook as a source: pushed items become content items like polled ones.

A pushed item is an object with the fields ``id`` (optional: the sender's own key),
``url``, ``title``, ``text``, ``language``, ``published`` and ``media`` — a JSON API item
under a fixed mapping, so ``json_api.map_item`` turns it into a ``SourceItem`` (HTML
stripped, links checked, content id from the sender's key or the URL). ``take_in_push``
then goes through ``intake.take_in`` (normalise, de-duplicate across all of the project's
sources, register in ``draft`` with the source's row) and records the delivery on the
source's health. Partitions and runs follow from ``webhook_items_sensor``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from autoclip_core.db.engine import Database
from autoclip_core.db.sources import SourceRecord, SourceRepository
from autoclip_core.ingest.config import DedupeSettings, JsonMapping
from autoclip_core.ingest.intake import Status, take_in
from autoclip_core.ingest.json_api import map_item

MAX_ITEMS_PER_PUSH = 100
MAPPING = JsonMapping(
    items="items",
    id="id",
    title="title",
    text="text",
    url="url",
    published="published",
    media="media",
    language="language",
)


@dataclass(frozen=True)
class PushedResult:
    index: int
    """Position of the item in the delivery."""
    id: str | None
    status: Status
    reason: str | None = None
    duplicate_of: str | None = None


def push_source_label(source_id: str) -> str:
    """``SourceItem.source`` of pushed items."""
    return f"webhook:{source_id}"


def take_in_push(
    database: Database,
    source: SourceRecord,
    raw_items: Sequence[dict[str, Any]],
    *,
    dedupe: DedupeSettings,
    now: datetime,
) -> list[PushedResult]:
    """Register a delivery's items for ``source``; one result per item, in order."""
    project = source.project.slug
    mapped = [
        map_item(
            raw,
            MAPPING,
            project=project,
            source_id=source.id,
            source=push_source_label(source.id),
            base_url="",
            fallback_key=True,
        )
        for raw in raw_items
    ]
    usable = [(index, item) for index, item in enumerate(mapped) if item is not None]
    verdicts = take_in(
        database,
        project,
        [item for _, item in usable],
        dedupe=dedupe,
        now=now,
        source_id=source.id,
    )
    results = {
        index: PushedResult(index, v.item.id, v.status, v.reason, v.duplicate_of)
        for (index, _), v in zip(usable, verdicts, strict=True)
    }
    ordered = [
        results.get(index)
        or PushedResult(index, None, "skipped", "no usable title, text or http(s) URL")
        for index in range(len(raw_items))
    ]
    new = sum(r.status == "new" for r in ordered)
    duplicates = sum(r.status == "duplicate" for r in ordered)
    skipped = [f"item {r.index}: {r.reason}" for r in ordered if r.status == "skipped"]
    SourceRepository(database).record_push(
        source.id, new=new, duplicates=duplicates, warning="; ".join(skipped) or None
    )
    return ordered
