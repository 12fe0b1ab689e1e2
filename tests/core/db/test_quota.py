"""The YouTube quota ledger: per API project per Pacific day, both of Google's models, and a
charge that would pass the day's quota waits for the next window instead."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from autoclip_core.db.engine import Database
from autoclip_core.db.quota import (
    QuotaPolicy,
    QuotaRepository,
    QuotaWindowFull,
    next_window,
    pacific_day,
)

# 07:59 UTC on 6 December is 23:59 on the 5th in Los Angeles (PST, UTC-8)
BEFORE_MIDNIGHT = datetime(2026, 12, 6, 7, 59, tzinfo=UTC)


def test_the_day_is_pacific_and_the_window_opens_at_pacific_midnight() -> None:
    assert pacific_day(BEFORE_MIDNIGHT).isoformat() == "2026-12-05"
    assert next_window(BEFORE_MIDNIGHT) == datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 6, 59, tzinfo=UTC)  # PDT, UTC-7
    assert pacific_day(summer).isoformat() == "2026-06-30"
    assert next_window(summer) == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


def test_both_models_and_overridden_costs() -> None:
    units = QuotaPolicy(model="units", costs={"videos.insert": 1600})
    assert units.charge("videos.insert") == ("units", 1600)
    assert units.charge("thumbnails.set", 2) == ("units", 100)
    bucket = QuotaPolicy(model="upload_bucket")
    assert bucket.charge("videos.insert") == ("uploads", 1)
    assert bucket.charge("channels.list") == ("units", 1)
    assert (bucket.limit("uploads"), bucket.limit("units")) == (100, 10_000)


def test_a_charge_past_the_days_quota_waits_for_the_next_window(db: Database) -> None:
    quota = QuotaRepository(db)
    units = QuotaPolicy(model="units", daily_units=3300, costs={"videos.insert": 1600})
    quota.charge("p1", units, "videos.insert", BEFORE_MIDNIGHT)
    quota.charge("p1", units, "videos.insert", BEFORE_MIDNIGHT)
    with pytest.raises(QuotaWindowFull) as full:
        quota.charge("p1", units, "videos.insert", BEFORE_MIDNIGHT)
    assert full.value.until == datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    quota.charge("p1", units, "thumbnails.set", BEFORE_MIDNIGHT, count=2)  # 100 still fits
    left = quota.left("p1", units, BEFORE_MIDNIGHT)
    assert (left.units, left.uploads, left.day.isoformat()) == (0, None, "2026-12-05")
    assert quota.left("p2", units, BEFORE_MIDNIGHT).units == 3300  # another API project
    after = BEFORE_MIDNIGHT + timedelta(minutes=1)  # a new Pacific day
    quota.charge("p1", units, "videos.insert", after)
    assert quota.left("p1", units, after).units == 1700

    bucket = QuotaPolicy(model="upload_bucket", daily_units=100, daily_uploads=2)
    for _ in range(2):
        quota.charge("p3", bucket, "videos.insert", after)
    with pytest.raises(QuotaWindowFull):
        quota.charge("p3", bucket, "videos.insert", after)
    quota.charge("p3", bucket, "thumbnails.set", after)  # units are a bucket of their own
    left = quota.left("p3", bucket, after)
    assert (left.units, left.uploads) == (50, 0)

    # the platform said no: nothing more of that bucket today, whatever the ledger counted
    quota.exhausted("p4", bucket, "thumbnails.set", after)
    with pytest.raises(QuotaWindowFull):
        quota.charge("p4", bucket, "channels.list", after)
    assert quota.left("p4", bucket, after).units == 0
    quota.charge("p4", bucket, "videos.insert", after)  # the uploads bucket is not spent


def test_concurrent_charges_never_overspend(db: Database) -> None:
    quota = QuotaRepository(db)
    policy = QuotaPolicy(model="upload_bucket", daily_uploads=5)

    def charge(_: int) -> bool:
        try:
            quota.charge("p1", policy, "videos.insert", BEFORE_MIDNIGHT)
        except QuotaWindowFull:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        charged = list(pool.map(charge, range(12)))
    assert charged.count(True) == 5
    assert quota.left("p1", policy, BEFORE_MIDNIGHT).uploads == 0
