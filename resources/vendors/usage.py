"""What vendor calls cost, and which provider answered: gathered while an asset runs, then
stored (one ``vendor_usage`` row per call) and summed into the asset's metadata.

Providers call ``report_usage`` after each paid call, and chains call ``report_answer``; both
go to the ``VendorCalls`` of the innermost ``recording_usage`` block, so provider interfaces
need not carry them. Outside such a block they are dropped (a provider used on its own, e.g.
in a template preview, has no content item to charge).

An asset wraps its provider calls::

    with provider_call(context), recording_usage(context.partition_key, app_db.usage) as calls:
        ...
    context.add_output_metadata({..., **calls.metadata()})

The rows are written when the block ends, failed or not: a paid call is counted even when a
later one fails the step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from typing import Any

from autoclip_core.db.usage import Usage, VendorUsageRepository
from autoclip_core.documents.base import DocumentStore
from resources.vendors.prices import cost_usd

__all__ = [
    "Usage",
    "VendorCalls",
    "priced",
    "recording_usage",
    "report_answer",
    "report_cache_hit",
    "report_exchange",
    "report_usage",
    "reporting_to",
    "store_calls",
]


def priced(provider: str, model: str, units: Mapping[str, float]) -> Usage:
    """A call's usage with its cost from the price table."""
    return Usage(provider, model, dict(units), cost_usd(provider, model, units))


@dataclass
class VendorCalls:
    usages: list[Usage] = field(default_factory=list)
    answered_by: dict[str, str] = field(default_factory=dict)
    """capability -> the provider of the chain that answered (the last call's)."""
    passed_over: dict[str, list[str]] = field(default_factory=dict)
    """capability -> providers that failed before it, in order (empty lists are left out)."""
    cache_hits: dict[str, int] = field(default_factory=dict)
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    """What was asked and answered, raw (``provider``, ``model``, ``request``, ``response``),
    for the document store."""

    @property
    def cost_usd(self) -> float:
        return round(sum(u.cost_usd for u in self.usages), 9)

    def metadata(self) -> dict[str, Any]:
        """The asset metadata: nothing at all when no vendor was involved, so local-only runs
        keep their metadata."""
        out: dict[str, Any] = {}
        if self.usages:
            units: dict[str, dict[str, float]] = {}
            for u in self.usages:
                per = units.setdefault(f"{u.provider}/{u.model}", {})
                for unit, amount in u.units.items():
                    per[unit] = per.get(unit, 0.0) + amount
            out["vendor_calls"] = len(self.usages)
            out["vendor_cost_usd"] = self.cost_usd
            out["vendor_units"] = units
        if self.answered_by:
            out["answered_by"] = dict(self.answered_by)
        if self.passed_over:
            out["providers_failed"] = {k: ", ".join(v) for k, v in self.passed_over.items()}
        if self.cache_hits:
            out["vendor_cache_hits"] = dict(self.cache_hits)
        return out


_current: ContextVar[VendorCalls | None] = ContextVar("autoclip_vendor_calls", default=None)


def report_usage(usage: Usage) -> None:
    calls = _current.get()
    if calls is not None:
        calls.usages.append(usage)


def report_answer(capability: str, provider: str, *, passed_over: list[str] | None = None) -> None:
    calls = _current.get()
    if calls is None:
        return
    calls.answered_by[capability] = provider
    if passed_over:
        seen = calls.passed_over.setdefault(capability, [])
        seen.extend(p for p in passed_over if p not in seen)


def report_cache_hit(provider: str) -> None:
    calls = _current.get()
    if calls is not None:
        calls.cache_hits[provider] = calls.cache_hits.get(provider, 0) + 1


def report_exchange(provider: str, model: str, request: Any, response: Any) -> None:
    calls = _current.get()
    if calls is not None:
        calls.exchanges.append(
            {"provider": provider, "model": model, "request": request, "response": response}
        )


@contextmanager
def recording_usage(
    content_id: str | None,
    repository: VendorUsageRepository | None,
    documents: DocumentStore | None = None,
) -> Iterator[VendorCalls]:
    """Gather the calls made inside the block; store them for ``content_id`` when it ends
    (and, given ``documents``, the raw exchanges and the call log there)."""
    with reporting_to(VendorCalls()) as calls:
        try:
            yield calls
        finally:
            store_calls(content_id, calls, repository, documents)


@contextmanager
def reporting_to(calls: VendorCalls) -> Iterator[VendorCalls]:
    """Reports made inside the block go to ``calls``: for a provider that answers many items
    at once (a batch), each answer's to its own item's."""
    token = _current.set(calls)
    try:
        yield calls
    finally:
        _current.reset(token)


def store_calls(
    content_id: str | None,
    calls: VendorCalls,
    repository: VendorUsageRepository | None,
    documents: DocumentStore | None = None,
) -> None:
    """One ``vendor_usage`` row per paid call of ``content_id``; given ``documents``, the raw
    exchanges and the call log there."""
    if calls.usages and repository is not None:
        repository.record(content_id, calls.usages)
    if documents is not None:
        keep_documents(documents, content_id, calls)


def keep_documents(documents: DocumentStore, content_id: str | None, calls: VendorCalls) -> None:
    """The exchanges and the call log as documents of ``content_id``."""
    documents.keep("llm_exchange", list(calls.exchanges), content_id=content_id)
    if calls.usages or calls.cache_hits or calls.answered_by:
        log = {**calls.metadata(), "usages": [asdict(u) for u in calls.usages]}
        documents.keep("vendor_calls", [log], content_id=content_id)
