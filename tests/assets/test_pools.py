"""Each step's Dagster pool is the vendor's the settings chose, with that vendor's limit
(autoclip_assets/pools.py), and those limits reach the instance."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from autoclip_assets.definitions import build_definitions
from autoclip_assets.pools import (
    apply_pool_limits,
    pool_limits,
    vendor_pools,
    with_vendor_pools,
)
from autoclip_cli.dev import DAGSTER_YAML
from autoclip_core.pipeline_names import CONTENT_JOB, PERFORMANCE_JOB, PUBLISH_JOB
from autoclip_core.settings import Settings
from resources.registry import ProviderConfigError

KEYS: dict[str, Any] = {
    "gemini_api_key": "k",
    "elevenlabs_api_key": "k",
    "openai_api_key": "k",
    "google_tts_api_key": "k",
    "creatomate_api_key": "k",
    "pexels_api_key": "k",
}
CREATOMATE = {"storage_provider": "s3", "s3_bucket": "media"}


def settings_of(tmp_path: Path, **fields: Any) -> Settings:
    return Settings(data_dir=tmp_path, **KEYS, **fields)


def pools_and_limits(settings: Settings) -> dict[str, tuple[str, int]]:
    pools = vendor_pools(settings)
    limits = pool_limits(settings, pools.values())
    return {capability: (pool.name, limits[pool.name]) for capability, pool in pools.items()}


def step_pools(defs: dg.Definitions) -> dict[str, str | None]:
    """The pool of every step of the jobs that run the pipeline's assets, by step."""
    jobs = [defs.resolve_job_def(name) for name in (CONTENT_JOB, PUBLISH_JOB, PERFORMANCE_JOB)]
    return {node.name: node.definition.pool for job in jobs for node in job.nodes}


def test_the_local_default_holds_each_local_tool_one_step_at_a_time(tmp_path: Path) -> None:
    assert pools_and_limits(Settings(data_dir=tmp_path)) == {
        "llm": ("local-llm", 1),
        "tts": ("espeak", 1),
        "visuals": ("local-visuals", 1),
        "renderer": ("ffmpeg", 1),
        "publisher": ("local-publisher", 1),
    }


def test_a_chain_holds_its_first_vendors_pool_at_that_vendors_documented_limit(
    tmp_path: Path,
) -> None:
    chains = {
        "llm_provider": "gemini",
        "tts_provider": "elevenlabs,openai,google,espeak",
        "visuals_provider": "openai-images,local",
    }
    assert pools_and_limits(settings_of(tmp_path, **chains)) == {
        "llm": ("gemini", 4),  # its token bucket keeps the 60 requests a minute
        "tts": ("elevenlabs", 2),  # the free plan's concurrent requests
        "visuals": ("openai-images", 4),
        "renderer": ("ffmpeg", 1),
        "publisher": ("local-publisher", 1),
    }
    plan = settings_of(tmp_path, tts_provider="elevenlabs,espeak", elevenlabs_plan="creator")
    assert pools_and_limits(plan)["tts"] == ("elevenlabs", 5)
    assert pools_and_limits(settings_of(tmp_path, tts_provider="openai,elevenlabs"))["tts"] == (
        "openai",
        4,
    )


def test_a_limit_set_in_the_settings_wins_over_the_documented_one(tmp_path: Path) -> None:
    settings = settings_of(
        tmp_path,
        llm_provider="gemini",
        tts_provider="elevenlabs",
        elevenlabs_plan="pro",
        pool_limits={"elevenlabs": 3, "gemini": 8},
    )
    limits = pools_and_limits(settings)
    assert limits["tts"] == ("elevenlabs", 3)
    assert limits["llm"] == ("gemini", 8)


def test_a_render_that_creatomate_or_ffmpeg_may_make_holds_one_pool_limited_like_ffmpeg(
    tmp_path: Path,
) -> None:
    """The template picks the renderer as the step runs; the pool is fixed before, and a
    render may be local, so Creatomate's renders wait like ffmpeg's unless set otherwise."""
    for default in ("creatomate", "ffmpeg"):
        settings = settings_of(tmp_path, renderer_provider=default, **CREATOMATE)
        assert pools_and_limits(settings)["renderer"] == ("renderer", 1)
    raised = settings_of(tmp_path, **CREATOMATE, pool_limits={"ffmpeg": 2})
    assert pools_and_limits(raised)["renderer"] == ("renderer", 2)
    own = settings_of(tmp_path, **CREATOMATE, pool_limits={"renderer": 6, "ffmpeg": 2})
    assert pools_and_limits(own)["renderer"] == ("renderer", 6)
    # Without S3 storage Creatomate is not set up: every render is ffmpeg's.
    assert pools_and_limits(settings_of(tmp_path))["renderer"] == ("ffmpeg", 1)


def test_publishing_holds_the_one_platforms_pool_or_one_covering_several(tmp_path: Path) -> None:
    credentials = {
        "youtube_client_id": "i",
        "youtube_client_secret": "s",
        "tiktok_client_key": "i",
        "tiktok_client_secret": "s",
    }
    one = settings_of(tmp_path, publisher_provider="youtube", **credentials)
    assert pools_and_limits(one)["publisher"] == ("youtube", 1)
    both = settings_of(tmp_path, publisher_provider="youtube,tiktok", **credentials)
    assert pools_and_limits(both)["publisher"] == ("publisher", 1)


def test_a_pool_the_settings_misname_is_refused_naming_the_pools(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, pool_limits={"eleven-labs": 3})
    with pytest.raises(ProviderConfigError, match=r"no pool 'eleven-labs'.*elevenlabs, espeak"):
        vendor_pools(settings)


def test_the_loaded_definitions_steps_hold_their_vendors_pools(tmp_path: Path) -> None:
    local = step_pools(build_definitions(Settings(data_dir=tmp_path)))
    assert local == {
        "source_item": None,
        "content_analysis": "local-llm",
        "topic_selection": None,
        "script": "local-llm",
        "narration": "espeak",
        "scene_images": "local-visuals",
        "video": "ffmpeg",
        "publication": "local-publisher",
        "performance": "local-publisher",
        # the checks ask the LLM's judge in a few quick calls, outside its pool
        "content_analysis_safety_precheck": None,
        "video_safety_postcheck": None,
    }
    paid = settings_of(
        tmp_path, llm_provider="gemini", tts_provider="elevenlabs,espeak", visuals_provider="pexels"
    )
    pools = step_pools(build_definitions(paid))
    assert {k: pools[k] for k in ("content_analysis", "script", "narration", "scene_images")} == {
        "content_analysis": "gemini",
        "script": "gemini",
        "narration": "elevenlabs",
        "scene_images": "pexels",
    }


def test_the_limits_reach_the_instance_and_a_step_waits_for_its_vendors_free_slot(
    tmp_path: Path,
) -> None:
    """A step declared in the ``tts`` pool, ElevenLabs chosen and its pool set to one: while
    another run's step holds that slot, the step waits; it starts once the slot is freed."""
    started: list[float] = []

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a"]), pool="tts")
    def speech() -> None:
        started.append(time.monotonic())

    settings = settings_of(tmp_path, tts_provider="elevenlabs", pool_limits={"elevenlabs": 1})
    (asset,) = with_vendor_pools([speech], vendor_pools(settings))
    job = dg.Definitions(assets=[asset]).resolve_implicit_global_asset_job_def()
    # The repository's instance configuration: pools of one step unless set, held per step.
    concurrency = yaml.safe_load(DAGSTER_YAML.read_text())["concurrency"]
    with dg.instance_for_test(overrides={"concurrency": concurrency}) as instance:
        storage = instance.event_log_storage
        assert apply_pool_limits(instance, settings) == {
            "local-llm": 1,
            "elevenlabs": 1,
            "local-visuals": 1,
            "ffmpeg": 1,
            "local-publisher": 1,
        }
        assert {p.name: p.limit for p in storage.get_pool_limits()}["elevenlabs"] == 1
        storage.claim_concurrency_slot("elevenlabs", "another-run", "narration")
        freed: list[float] = []

        def free_after_a_second() -> None:
            time.sleep(1.0)
            freed.append(time.monotonic())
            storage.free_concurrency_slots_for_run("another-run")

        # Dagster's in-process runs are not thread-safe: one run, the other run's slot held
        # and freed from here.
        freeing = threading.Thread(target=free_after_a_second)
        freeing.start()
        result = job.execute_in_process(instance=instance, partition_key="a")
        freeing.join()
    assert result.success
    assert started[0] > freed[0]
    assert any(
        "blocked by limit for pool elevenlabs" in (e.message or "") for e in result.all_events
    )
