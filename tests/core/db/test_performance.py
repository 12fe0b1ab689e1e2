from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from autoclip_core.db.content import ContentRepository, UnknownContentError
from autoclip_core.db.engine import Database
from autoclip_core.db.performance import PerformanceRepository, PerformanceSample
from autoclip_core.db.projects import ProjectRepository
from tests.core.db.helpers import item

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_snapshots_round_trip_with_utc_times(db: Database) -> None:
    ProjectRepository(db).ensure("news")
    ContentRepository(db).register_new_items([item(1), item(2)])
    performance = PerformanceRepository(db)
    sample = PerformanceSample(channel="local", url="file:///v.mp4", published_at=T0, views=5,
                               likes=1, comments=0, shares=0, watch_time_s=12.5,
                               captured_at=T0 + timedelta(days=1))  # fmt: skip
    assert performance.record(item(2).id, [sample]) == 1
    assert performance.of_content(item(2).id) == [sample]
    assert performance.of_content(item(1).id) == []
    with pytest.raises(UnknownContentError):
        performance.record("missing", [sample])
