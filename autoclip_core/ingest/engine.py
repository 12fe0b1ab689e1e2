"""One ingestion tick: poll the due sources, enrich what is new, de-duplicate, register.

1. **Poll** every due source (its own poll interval; failing ones back off) in a thread
   pool — at most ``max_workers`` at once and ``per_host_concurrency`` per host, so one
   provider is never stampeded — within the tick's time budget. A source still waiting
   or running when the budget ends stays due for the next tick.
2. **Filter** candidates already stored (by id) or already known by canonical URL, before
   any enrichment is spent on them.
3. **Enrich** the rest (article full text, transcripts) in the same bounded pool, at most
   ``max_enrich_per_source`` per source per tick. When items are held back the source's
   ETag/Last-Modified are not advanced, so the next poll sees them again.
4. **Normalise, de-duplicate, register** (``intake.screen``): canonical URL, language,
   fingerprint; then the project's index (recent stored items + this tick's) decides; new
   items are stored in ``draft`` in one transaction per project.

The sources are the file's plus those created through the API (``catalog``); each one's
health (errors, back-off, when it is due) is read from the ``sources`` table before the
tick and written back after it, its fetch position travels in the cursor.

Every failure is caught per source and recorded on its state — one broken source never
stops the others. The tick never raises for a source's sake.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database
from autoclip_core.db.sources import SourceRepository
from autoclip_core.feeds import FeedError
from autoclip_core.fetch import FetchError
from autoclip_core.ingest.catalog import CatalogSource, load_catalog
from autoclip_core.ingest.config import (
    JsonApiSource,
    PolledSource,
    ProjectConfig,
    RssSource,
    SourcesConfig,
    YoutubeSource,
)
from autoclip_core.ingest.dedupe import DedupeIndex
from autoclip_core.ingest.drop_folder import poll_drop_folder
from autoclip_core.ingest.intake import load_index, screen
from autoclip_core.ingest.json_api import poll_json_api
from autoclip_core.ingest.normalize import canonical_url
from autoclip_core.ingest.poll import Candidate, PollContext, PollResult, SourceError
from autoclip_core.ingest.rss import poll_rss
from autoclip_core.ingest.state import (
    IngestCursor,
    SourceState,
    record_failure,
    record_success,
    utcnow,
)
from autoclip_core.ingest.youtube import poll_youtube
from autoclip_core.schemas import SourceItem

RETRY_DEFERRED_S = 60.0


@dataclass(frozen=True)
class NewItem:
    project: str
    item_id: str
    source: str
    """Key of the source (``project/source-id``) it came from."""


@dataclass
class SourceReport:
    key: str
    status: str  # new | unchanged | not_modified | failed | deferred
    new: int = 0
    duplicates: int = 0
    skipped: int = 0
    held_back: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    handled: set[str] = field(default_factory=set, repr=False)
    """Ids this tick finished with (registered, duplicate or skipped)."""

    def line(self) -> str:
        text = f"{self.key}: {self.status}"
        if self.status not in ("failed", "deferred"):
            text += f" (new {self.new}, duplicates {self.duplicates}"
            text += f", skipped {self.skipped}" if self.skipped else ""
            text += f", held back {self.held_back}" if self.held_back else ""
            text += f"; {self.seconds:.2f} s)"
        if self.error:
            text += f" — {self.error}"
        return text


@dataclass
class TickOutcome:
    cursor: IngestCursor
    new_items: list[NewItem] = field(default_factory=list)
    recovered: list[NewItem] = field(default_factory=list)
    """Stored earlier but never added as a partition (e.g. a tick that crashed midway)."""
    reports: list[SourceReport] = field(default_factory=list)
    configured: int = 0
    """Enabled sources (the file's and the API's) this tick considered."""
    problems: list[str] = field(default_factory=list)
    """Sources left out of the tick, and why (an API source whose row is not valid)."""

    @property
    def partition_keys(self) -> list[str]:
        return [n.item_id for n in (*self.new_items, *self.recovered)]


@dataclass
class _Polled:
    project: ProjectConfig
    source: PolledSource
    key: str
    result: PollResult | None = None
    error: Exception | None = None
    seconds: float = 0.0
    finished: bool = False


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower() or "local"


def source_host(source: PolledSource, config: SourcesConfig) -> str:
    """The provider a source's polls hit (for per-host concurrency)."""
    if isinstance(source, RssSource | JsonApiSource):
        return _host(source.url) if "://" in source.url else "local-files"
    if isinstance(source, YoutubeSource):
        base = config.youtube.api_base_url if source.api_key_env else config.youtube.feed_base_url
        return _host(base)
    return f"drop:{source.path}"


def poll_source(source: PolledSource, state: SourceState, ctx: PollContext) -> PollResult:
    """Poll one source with the reader of its type."""
    if isinstance(source, RssSource):
        return poll_rss(source, state, ctx)
    if isinstance(source, YoutubeSource):
        return poll_youtube(source, state, ctx)
    if isinstance(source, JsonApiSource):
        return poll_json_api(source, state, ctx)
    return poll_drop_folder(source, state, ctx)


def describe_error(exc: BaseException) -> str:
    """A readable one-line reason for a source's failure (shown in its health, so a fetch
    error gives its public reason: never what our DNS answered)."""
    if isinstance(exc, FetchError):
        return exc.reason
    if isinstance(exc, FeedError | SourceError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class _HostLimiter:
    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._lock = threading.Lock()
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}

    def __call__(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            if host not in self._semaphores:
                self._semaphores[host] = threading.BoundedSemaphore(self.per_host)
            return self._semaphores[host]


class _Indexes:
    """Each project's dedupe index, loaded on first use from its recently stored items."""

    def __init__(self, database: Database, config: SourcesConfig, now: datetime) -> None:
        self.database = database
        self.max_distance = config.dedupe.max_distance
        self.since = now - timedelta(days=config.dedupe.window_days)
        self._indexes: dict[str, DedupeIndex] = {}

    def of(self, project: str) -> DedupeIndex:
        if project not in self._indexes:
            self._indexes[project] = load_index(
                self.database, project, since=self.since, max_distance=self.max_distance
            )
        return self._indexes[project]


class IngestEngine:
    def __init__(
        self,
        config: SourcesConfig,
        database: Database,
        *,
        existing_partitions: Callable[[], set[str]] | None = None,
        poll: Callable[[PolledSource, SourceState, PollContext], PollResult] = poll_source,
    ) -> None:
        self.config = config
        self.database = database
        self.content = ContentRepository(database)
        self.sources = SourceRepository(database)
        self.existing_partitions = existing_partitions
        self.poll = poll
        self.limits = config.limits

    # the tick ---------------------------------------------------------------------------

    def tick(self, cursor: IngestCursor | None = None, now: datetime | None = None) -> TickOutcome:
        now = now or utcnow()
        cursor = cursor or IngestCursor()
        started = time.monotonic()
        deadline = started + self.limits.tick_budget_s
        outcome = TickOutcome(cursor=cursor)
        catalog = load_catalog(self.config, self.database)  # also creates the file's projects
        outcome.problems = catalog.problems
        configured = {key: entry for key, entry in catalog.sources.items() if entry.spec.enabled}
        outcome.configured = len(configured)
        for stale in set(cursor.sources) - set(configured):
            del cursor.sources[stale]
        health = self.sources.health(entry.row_id for entry in configured.values())
        for key, entry in configured.items():
            if entry.row_id in health:
                cursor.state(key).health = health[entry.row_id]
        due = sorted(
            (key for key in configured if cursor.state(key).is_due(now)),
            key=lambda k: (cursor.state(k).health.next_poll_at or now, k),
        )
        if not due:
            return outcome

        limiter = _HostLimiter(self.limits.per_host_concurrency)
        pool = ThreadPoolExecutor(max_workers=self.limits.max_workers, thread_name_prefix="ingest")
        try:
            polled = self._poll_all(pool, limiter, configured, due, cursor, now, deadline)
            self._settle(pool, limiter, polled, cursor, now, deadline, outcome)
        finally:
            # Never wait for stragglers: each ends by its own fetch timeout; results ignored.
            pool.shutdown(wait=False, cancel_futures=True)
        self.sources.save_health(
            {configured[p.key].row_id: cursor.state(p.key).health for p in polled}
        )
        return outcome

    # phase 1: poll ----------------------------------------------------------------------

    def _poll_all(
        self,
        pool: ThreadPoolExecutor,
        limiter: _HostLimiter,
        configured: dict[str, CatalogSource],
        due: list[str],
        cursor: IngestCursor,
        now: datetime,
        deadline: float,
    ) -> list[_Polled]:
        jobs: dict[Future[None], _Polled] = {}
        for key in due:
            entry = configured[key]
            project, source = entry.project, entry.spec
            polled = _Polled(project, source, key)
            ctx = PollContext(project.slug, entry.source_id, self.limits, self.config.youtube, now)
            state = cursor.state(key).model_copy(deep=True)
            host = source_host(source, self.config)
            jobs[pool.submit(self._run_poll, polled, state, ctx, limiter(host), deadline)] = polled
        self._wait(jobs, deadline)
        for future, polled in jobs.items():
            polled.finished = future.done() and not future.cancelled()
        return list(jobs.values())

    def _run_poll(
        self,
        polled: _Polled,
        state: SourceState,
        ctx: PollContext,
        semaphore: threading.BoundedSemaphore,
        deadline: float,
    ) -> None:
        if not semaphore.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return  # budget spent waiting for the host: stays due
        began = time.monotonic()
        try:
            if time.monotonic() < deadline:
                polled.result = self.poll(polled.source, state, ctx)
        except Exception as exc:  # recorded on the source, never raised out of the tick
            polled.error = exc
        finally:
            polled.seconds = time.monotonic() - began
            semaphore.release()

    @staticmethod
    def _wait(futures: Iterable[Future[Any]], deadline: float) -> set[Future[Any]]:
        """Wait for the futures until the deadline; cancel and return those still pending."""
        pending = set(futures)
        while pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            _, pending = wait(pending, timeout=remaining, return_when=FIRST_COMPLETED)
        for future in pending:
            future.cancel()
        return pending

    # phases 2-4 ---------------------------------------------------------------------------

    def _settle(
        self,
        pool: ThreadPoolExecutor,
        limiter: _HostLimiter,
        polled: list[_Polled],
        cursor: IngestCursor,
        now: datetime,
        deadline: float,
        outcome: TickOutcome,
    ) -> None:
        reports = {p.key: SourceReport(p.key, "deferred", seconds=p.seconds) for p in polled}
        for p in polled:
            if not p.finished:
                reports[p.key].error = "not polled within the tick's budget; stays due"
            elif p.error is not None:
                reports[p.key].status = "failed"
                reports[p.key].error = describe_error(p.error)
                record_failure(
                    cursor.state(p.key).health,
                    now,
                    p.source.poll_interval,
                    reports[p.key].error or "",
                    max_backoff=self.limits.max_backoff_s,
                    retry_after=getattr(p.error, "retry_after", None),
                )
        ok = {p.key: p for p in polled if p.finished and p.result is not None}
        results = {key: p.result for key, p in ok.items() if p.result is not None}
        all_ids = [c.item.id for r in results.values() for c in r.candidates]
        stored = self.content.known_item_ids(all_ids) if all_ids else set()
        indexes = _Indexes(self.database, self.config, now)

        todo = self._drop_known(ok, results, stored, indexes, reports)
        enriched, held_back = self._enrich(pool, limiter, todo, deadline, reports)
        self._register(ok, enriched, indexes, reports, outcome)
        for key, p in ok.items():
            self._record(p, results[key], cursor.state(key), reports[key], now,
                         held_back.get(key, 0), stored)  # fmt: skip
        self._recover(ok, results, stored, outcome)
        outcome.reports = [reports[p.key] for p in polled]

    @staticmethod
    def _drop_known(
        ok: dict[str, _Polled],
        results: dict[str, PollResult],
        stored: set[str],
        indexes: _Indexes,
        reports: dict[str, SourceReport],
    ) -> dict[str, list[Candidate]]:
        """Phase 2: candidates not stored yet and not known by canonical URL."""
        todo: dict[str, list[Candidate]] = {}
        for key, result in results.items():
            index = indexes.of(ok[key].project.slug)
            reports[key].notes.extend(result.notes)
            fresh: list[Candidate] = []
            seen: set[str] = set()
            for candidate in result.candidates:
                item = candidate.item
                if item.id in stored or item.id in seen:
                    continue
                seen.add(item.id)
                canonical = canonical_url(item.canonical_url or item.url) or None
                if index.match(item.id, canonical, None) is not None:
                    reports[key].duplicates += 1
                    continue
                fresh.append(candidate)
            todo[key] = fresh
        return todo

    def _register(
        self,
        ok: dict[str, _Polled],
        enriched: dict[str, list[SourceItem]],
        indexes: _Indexes,
        reports: dict[str, SourceReport],
        outcome: TickOutcome,
    ) -> None:
        """Phase 4: normalise, de-duplicate against the project's index, store as drafts."""
        batches: dict[str, list[tuple[str, SourceItem]]] = {}
        for key, items in enriched.items():
            project = ok[key].project.slug
            report = reports[key]
            index = indexes.of(project)
            for raw in items:
                report.handled.add(raw.id)
                verdict = screen(raw, index)
                if verdict.status == "skipped":
                    report.skipped += 1
                    report.notes.append(f"{raw.id}: {verdict.reason}")
                elif verdict.status == "duplicate":
                    report.duplicates += 1
                else:
                    batches.setdefault(project, []).append((key, verdict.item))
        for project, pairs in batches.items():
            added = set(self.content.register_new_items(item for _, item in pairs))
            for key, item in pairs:
                if item.id in added:
                    outcome.new_items.append(NewItem(project, item.id, key))
                    reports[key].new += 1

    def _record(
        self,
        p: _Polled,
        result: PollResult,
        state: SourceState,
        report: SourceReport,
        now: datetime,
        held_back: int,
        stored: set[str],
    ) -> None:
        """The source's new state; validators advance only when nothing was held back."""
        if result.commit is not None:
            try:
                report.notes.extend(result.commit(report.handled | stored))
            except Exception as exc:
                report.notes.append(f"after registration: {describe_error(exc)}")
        report.held_back = held_back
        interval = p.source.poll_interval
        record_success(
            state.health,
            now,
            min(interval, RETRY_DEFERRED_S) if held_back else interval,
            new=report.new,
            duplicates=report.duplicates,
        )
        if not held_back:
            state.etag, state.last_modified = result.etag, result.last_modified
            if result.cursor is not None:
                state.cursor = result.cursor
        state.health.last_warning = "; ".join(report.notes)[:500] or None
        if result.not_modified:
            report.status = "not_modified"
        else:
            report.status = "new" if report.new else "unchanged"

    def _recover(
        self,
        ok: dict[str, _Polled],
        results: dict[str, PollResult],
        stored: set[str],
        outcome: TickOutcome,
    ) -> None:
        """Items stored by an earlier tick whose partition was never added (a lost tick)."""
        known = sorted(
            {
                (ok[key].project.slug, c.item.id, key)
                for key, result in results.items()
                for c in result.candidates
                if c.item.id in stored
            }
        )
        if not known or self.existing_partitions is None:
            return
        partitions = self.existing_partitions()
        outcome.recovered.extend(
            NewItem(slug, item_id, key) for slug, item_id, key in known if item_id not in partitions
        )

    def _enrich(
        self,
        pool: ThreadPoolExecutor,
        limiter: _HostLimiter,
        todo: dict[str, list[Candidate]],
        deadline: float,
        reports: dict[str, SourceReport],
    ) -> tuple[dict[str, list[SourceItem]], dict[str, int]]:
        """Phase 3: run enrichments (at most ``max_enrich_per_source`` each) within the budget;
        what did not fit or finish is held back for the next tick."""
        enriched: dict[str, list[SourceItem]] = {key: [] for key in todo}
        held_back: dict[str, int] = {}
        jobs: dict[Future[tuple[SourceItem | None, str | None]], tuple[str, SourceItem]] = {}
        cap = self.limits.max_enrich_per_source
        for key, candidates in todo.items():
            spent = 0
            for candidate in candidates:
                if candidate.enrich is None:
                    enriched[key].append(candidate.item)
                elif spent < cap:
                    spent += 1
                    semaphore = limiter(_host(candidate.item.url))
                    future = pool.submit(self._run_enrich, candidate, semaphore, deadline)
                    jobs[future] = (key, candidate.item)
                else:
                    held_back[key] = held_back.get(key, 0) + 1
        pending = self._wait(jobs, deadline)
        for future, (key, item) in jobs.items():
            if future in pending or not future.done():
                held_back[key] = held_back.get(key, 0) + 1
                continue
            try:
                result, note = future.result()
            except Exception as exc:
                result, note = item, f"enrichment failed: {describe_error(exc)}"
            if result is None:
                held_back[key] = held_back.get(key, 0) + 1
                continue
            if note:
                reports[key].notes.append(note)
            enriched[key].append(result)
        return enriched, held_back

    @staticmethod
    def _run_enrich(
        candidate: Candidate, semaphore: threading.BoundedSemaphore, deadline: float
    ) -> tuple[SourceItem | None, str | None]:
        assert candidate.enrich is not None
        if not semaphore.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return None, None
        try:
            if time.monotonic() >= deadline:
                return None, None
            return candidate.enrich(candidate.item)
        finally:
            semaphore.release()
