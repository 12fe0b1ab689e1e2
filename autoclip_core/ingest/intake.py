"""Taking items in: normalise, de-duplicate against the project's known items, register.

The sensor's tick (``engine``) and the webhook (``autoclip_api.sources``) both go through
here, so an item is judged the same whichever way it arrived: ``normalize_item`` (canonical
URL, language, fingerprint), then the project's ``DedupeIndex`` — its items stored within
the dedupe window plus those taken in before it in the same batch — then
``ContentRepository.register_new_items`` (``draft``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database
from autoclip_core.ingest.config import DedupeSettings
from autoclip_core.ingest.dedupe import DedupeIndex
from autoclip_core.ingest.normalize import canonical_url, normalize_item
from autoclip_core.schemas import SourceItem

Status = Literal["new", "duplicate", "skipped"]


@dataclass(frozen=True)
class Verdict:
    item: SourceItem
    """Normalised (the raw item when normalisation failed)."""
    status: Status
    reason: str | None = None
    duplicate_of: str | None = None


def load_index(
    database: Database, project: str, *, since: datetime, max_distance: int
) -> DedupeIndex:
    """The project's items stored since ``since``, as a dedupe index."""
    index = DedupeIndex(max_distance)
    rows = ContentRepository(database).dedupe_rows(project, since)
    for item_id, url, canonical, fingerprint in rows:
        index.add(item_id, canonical or canonical_url(url) or None, fingerprint)
    return index


def screen(raw: SourceItem, index: DedupeIndex) -> Verdict:
    """Normalise one item and judge it against the index; a new one joins the index."""
    try:
        item = normalize_item(raw)
    except Exception as exc:  # a hostile item must not end the batch
        return Verdict(raw, "skipped", f"not normalised ({type(exc).__name__})")
    if not item.text.strip() or not item.title.strip():
        return Verdict(item, "skipped", "no title or text left after cleaning")
    duplicate = index.match(item.id, item.canonical_url, item.fingerprint)
    if duplicate is not None:
        return Verdict(item, "duplicate", duplicate.reason, duplicate.of)
    index.add(item.id, item.canonical_url, item.fingerprint)
    return Verdict(item, "new")


def take_in(
    database: Database,
    project: str,
    items: Iterable[SourceItem],
    *,
    dedupe: DedupeSettings,
    now: datetime,
    source_id: str | None = None,
) -> list[Verdict]:
    """Screen a batch of one project's items and register the new ones in one transaction.

    One verdict per item, in order. An item another writer stored meanwhile is a duplicate.
    """
    index = load_index(
        database,
        project,
        since=now - timedelta(days=dedupe.window_days),
        max_distance=dedupe.max_distance,
    )
    verdicts = [screen(item, index) for item in items]
    fresh = [v.item for v in verdicts if v.status == "new"]
    content = ContentRepository(database)
    added = set(content.register_new_items(fresh, source_id=source_id)) if fresh else set()
    return [
        v
        if v.status != "new" or v.item.id in added
        else replace(v, status="duplicate", reason="same id", duplicate_of=v.item.id)
        for v in verdicts
    ]
