"""Vendor usage: one row per paid call (content item, organisation, project, provider, model,
units, cost), for per-item costs now and analytics and credits later."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from autoclip_core.db.engine import Repository, aware
from autoclip_core.db.models import ContentItem, Project, VendorUsage


@dataclass(frozen=True)
class Usage:
    """What one vendor call consumed (``units``: tokens, characters, images, render seconds…)
    and what it cost."""

    provider: str
    model: str
    units: dict[str, float]
    cost_usd: float


@dataclass(frozen=True)
class UsageRow:
    usage: Usage
    content_id: str | None
    org_id: str | None
    project_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class UsageSummary:
    calls: int
    cost_usd: float
    by_provider: dict[str, float]
    """provider -> cost in USD."""


class VendorUsageRepository(Repository):
    def record(self, content_id: str | None, usages: Iterable[Usage]) -> int:
        """Store one row per call, charged to the item's project and organisation (none for a
        call made for no item, or for an item that is gone); how many."""
        with self._session() as s:
            project_id = org_id = None
            if content_id is not None:
                found = s.execute(
                    select(ContentItem.project_id, Project.org_id)
                    .join(Project, Project.id == ContentItem.project_id)
                    .where(ContentItem.id == content_id)
                ).first()
                if found is None:
                    content_id = None
                else:
                    project_id, org_id = found
            rows = [
                VendorUsage(
                    content_id=content_id,
                    org_id=org_id,
                    project_id=project_id,
                    provider=u.provider,
                    model=u.model,
                    units=dict(u.units),
                    cost_usd=u.cost_usd,
                )
                for u in usages
            ]
            s.add_all(rows)
            return len(rows)

    def of_content(self, content_id: str) -> list[UsageRow]:
        with self._session() as s:
            rows = s.scalars(
                select(VendorUsage)
                .where(VendorUsage.content_id == content_id)
                .order_by(VendorUsage.id)
            ).all()
            return [
                UsageRow(
                    Usage(r.provider, r.model, dict(r.units), r.cost_usd),
                    r.content_id,
                    r.org_id,
                    r.project_id,
                    aware(r.created_at),
                )
                for r in rows
            ]

    def summary(self, content_id: str) -> UsageSummary:
        rows = self.of_content(content_id)
        by_provider: dict[str, float] = {}
        for row in rows:
            by_provider[row.usage.provider] = round(
                by_provider.get(row.usage.provider, 0.0) + row.usage.cost_usd, 9
            )
        return UsageSummary(
            calls=len(rows),
            cost_usd=round(sum(r.usage.cost_usd for r in rows), 9),
            by_provider=by_provider,
        )
