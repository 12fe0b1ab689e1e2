"""How much of a vendor the pipeline uses at once: a Dagster pool around the steps that call
it — each declared in its capability's pool, which becomes the chosen vendor's when the
definitions load (autoclip_assets/pools.py, tests/assets/test_pools.py) — and, around every
request, the vendor's token bucket (resources/vendors/ratelimit.py), shared by every step,
check and process (README: *Providers*, concurrency)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoclip_assets.definitions import ASSETS, CHECKS
from autoclip_assets.llm_batch import llm_batch
from autoclip_assets.pools import CAPABILITIES
from resources.llm.gemini import GeminiLLM
from resources.tts.openai import OpenAITTS
from resources.vendors.ratelimit import limiter_for


@pytest.mark.parametrize("asset", ASSETS, ids=lambda a: a.key.to_user_string())
def test_a_step_that_calls_a_capability_is_declared_in_its_pool(asset) -> None:  # type: ignore[no-untyped-def]
    used = set(CAPABILITIES) & asset.required_resource_keys
    assert len(used) <= 1, "a step in two capabilities' pools would hold one waiting for the other"
    assert asset.op.pool == (next(iter(used)) if used else None)


def test_the_steps_outside_the_pools_are_the_checks_and_the_batch_step() -> None:
    """They ask the LLM's safety judge (a few quick calls) or wait hours on a batch: holding the
    LLM's pool meanwhile would stall every item's analysis and script. Their requests still take
    the vendor's bucket."""
    assert all("llm" in check.required_resource_keys for check in CHECKS)
    assert all(check.op.pool is None for check in CHECKS)
    assert llm_batch.pool is None


def test_every_instance_of_a_vendor_takes_the_same_bucket(tmp_path: Path) -> None:
    """Two resources of one vendor (two code paths, two chains) share its documented limit."""
    fields = {"base_url": "http://127.0.0.1:9", "api_key": "k", "cache_dir": str(tmp_path)}
    one = GeminiLLM(**fields, analysis_model="a", script_model="b")
    other = GeminiLLM(**fields, analysis_model="c", script_model="d")
    bucket = limiter_for("gemini")
    assert bucket is not None
    assert one.vendor_client().limiter is other.vendor_client().limiter is bucket
    # A vendor whose limit depends on the plan has a bucket once one is configured.
    rates = {"openai": 500.0}
    speech = OpenAITTS(**fields, requests_per_minute=rates).vendor_client().limiter
    assert speech is not None
    assert speech is limiter_for("openai", overrides=rates)
