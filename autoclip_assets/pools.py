"""The Dagster concurrency pool each step holds, named for the vendor it calls, and its limit.

A step that calls an outside capability is declared with that capability's pool
(``@dg.asset(pool="tts")``); when the definitions load, :func:`with_vendor_pools` gives it the
pool of the vendor the settings chose for it instead, so each vendor's steps run at most its
limit at once across all runs:

- ``llm``, ``tts``, ``visuals`` (a provider, or an ordered chain of fallbacks): the first
  provider's pool, ``gemini``, ``elevenlabs``, ``pexels``…; a step falling back along its
  chain stays in the slot it holds, as the first provider answers whenever it can. The local
  providers' pools are ``espeak`` and ``local-llm``, ``local-visuals``.
- ``renderer``: ``ffmpeg``. With Creatomate set up too (its key and S3 storage; ffmpeg is
  always there) the renderer is the project's template's choice, made as the step runs,
  while a pool is fixed before: the step holds ``renderer``, covering both, limited like the
  stricter of them (ffmpeg's one render at a time on this machine unless set otherwise).
- ``publisher``: the one platform chosen (``youtube``, ``tiktok``; ``local-publisher`` when
  none is, the local channel's file copies not counted beside a platform); with several, a
  step publishes to each channel of its item, so it holds ``publisher``, covering them all.

Pools' limits: ``AUTOCLIP_POOL_LIMITS``, else the vendor's documented concurrency (ElevenLabs
by ``AUTOCLIP_ELEVENLABS_PLAN``), else :data:`DEFAULT_LIMIT`. :func:`apply_pool_limits` sets
them on the instance (``autoclip dev``, ``autoclip demo``, ``autoclip pools``); a limit set by
hand (``dagster instance concurrency set <pool> <n>``) lasts until the next of those starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

from autoclip_core.settings import Settings
from resources.registry import PROVIDERS, ProviderConfigError, provider

CAPABILITIES = ("llm", "tts", "visuals", "renderer", "publisher")
"""The capabilities whose providers a step waits on; storage is quick and local or S3."""
CHOSEN_PER_ITEM = frozenset({"renderer", "publisher"})
"""Capabilities whose provider is picked for each item as the step runs (the template's
renderer, the channels' platforms), not tried in order: no one vendor's pool covers them."""

DEFAULT_LIMIT = 1
"""One step at a time, as the instance's ``concurrency.pools.default_limit`` (dagster.yaml):
the local tools share this machine's cores (``make bench-batch``: one render at a time keeps
them busy), a platform its uplink and daily quota."""
# Concurrent requests ElevenLabs allows per plan with eleven_multilingual_v2, the model the
# narration uses (help.elevenlabs.io, "API Error Code 429"); a narration sends one at a time.
ELEVENLABS_CONCURRENCY = {
    "free": 2,
    "starter": 3,
    "creator": 5,
    "pro": 10,
    "scale": 15,
    "business": 15,
}
# Vendors that limit requests over time, not in flight: a token bucket
# (resources/vendors/ratelimit.py) paces their requests, Creatomate queues renders without a
# limit beyond 30 requests per 10 s; the pool only bounds the steps waiting on them. Four keeps
# Gemini's 60 a minute used while each answer takes the seconds it does.
RATE_LIMITED = 4
DOCUMENTED_LIMITS = {
    vendor: RATE_LIMITED
    for vendor in ("gemini", "openai", "google", "openai-images", "pexels", "pixabay", "creatomate")
}


@dataclass(frozen=True)
class Pool:
    name: str
    vendors: tuple[str, ...]
    """The vendors' own pools it covers: ``(name,)`` for a vendor's pool."""


def pool_name(capability: str, provider_name: str) -> str:
    """A provider's pool: its name, the local ones' with their capability (``local-llm``)."""
    return f"{provider_name}-{capability}" if provider_name == "local" else provider_name


def vendor_pools(settings: Settings, renderer: Any = None) -> dict[str, Pool]:
    """Each capability's pool under ``settings``. ``renderer``: the renderer resource already
    built from them (its ``names`` are the renderers set up), built here when not given."""
    if renderer is None:
        renderer = provider("renderer", settings)
    known = {pool_name(c, p) for c in CAPABILITIES for p in PROVIDERS[c]} | CHOSEN_PER_ITEM
    if unknown := sorted(set(settings.pool_limits) - known):
        raise ProviderConfigError(
            f"AUTOCLIP_POOL_LIMITS: no pool {', '.join(map(repr, unknown))}; "
            f"the pools are {', '.join(sorted(known))}"
        )
    pools = {}
    for capability in CAPABILITIES:
        names = settings.provider_chain(capability)
        if capability == "renderer":
            names = list(getattr(renderer, "names", names))
        elif capability == "publisher":
            names = [n for n in names if n != "local"] or ["local"]
        else:
            names = names[:1]
        vendors = tuple(pool_name(capability, n) for n in names)
        pools[capability] = Pool(capability if len(vendors) > 1 else vendors[0], vendors)
    return pools


def pool_limits(settings: Settings, pools: Iterable[Pool]) -> dict[str, int]:
    """Each pool's limit: its own setting, else the strictest of its vendors'."""

    def vendor_limit(vendor: str) -> int:
        if vendor in settings.pool_limits:
            return settings.pool_limits[vendor]
        if vendor == "elevenlabs":
            return ELEVENLABS_CONCURRENCY[settings.elevenlabs_plan]
        return DOCUMENTED_LIMITS.get(vendor, DEFAULT_LIMIT)

    return {
        pool.name: settings.pool_limits.get(pool.name) or min(map(vendor_limit, pool.vendors))
        for pool in pools
    }


def with_pool(asset: dg.AssetsDefinition, pool: str) -> dg.AssetsDefinition:
    """``asset`` holding ``pool``: Dagster fixes an op's pool when the op is made, so the
    op is made again from its own parts (as ``OpDefinition.with_replaced_properties`` does;
    an asset's code version is on its outputs, which are kept)."""
    op = asset.op
    if op.pool == pool:
        return asset
    node = dg.OpDefinition(
        compute_fn=op.compute_fn,
        name=op.name,
        ins={d.name: dg.In.from_definition(d) for d in op.input_defs},
        outs={d.name: dg.Out.from_definition(d) for d in op.output_defs},
        description=op.description,
        config_schema=op.config_schema,
        required_resource_keys=op.required_resource_keys,
        tags=op.tags,
        retry_policy=op.retry_policy,
        pool=pool,
    )
    return dg.AssetsDefinition.dagster_internal_init(
        **{**asset.get_attributes_dict(), "node_def": node}
    )


def with_vendor_pools(
    assets: Sequence[dg.AssetsDefinition], pools: Mapping[str, Pool]
) -> list[dg.AssetsDefinition]:
    """``assets``, each step declared with a capability's pool holding its vendor's."""
    return [with_pool(a, pools[a.op.pool].name) if a.op.pool in pools else a for a in assets]


def apply_pool_limits(
    instance: dg.DagsterInstance, settings: Settings, renderer: Any = None
) -> dict[str, int]:
    """Set the limit of every pool the steps hold under ``settings`` on ``instance``."""
    limits = pool_limits(settings, vendor_pools(settings, renderer).values())
    for name, limit in limits.items():
        instance.event_log_storage.set_concurrency_slots(name, limit)
    return limits
