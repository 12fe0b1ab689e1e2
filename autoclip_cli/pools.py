"""``autoclip pools``: set the limit of every vendor's Dagster pool from the settings.

Sets them on the instance of ``DAGSTER_HOME`` (unset: the data dir's, ``make dev``'s) for the
pools the steps hold under the settings (``autoclip_assets/pools.py``): ``AUTOCLIP_POOL_LIMITS``,
else each vendor's documented concurrency. ``autoclip dev`` runs it after migrating the
instance; a deployment runs it in its release step, after ``dagster instance migrate``.
"""

from __future__ import annotations

import argparse
import os
import sys

import dagster as dg

from autoclip_assets.pools import apply_pool_limits
from autoclip_core.settings import Settings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="autoclip pools", description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    settings = Settings()
    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
    with dg.DagsterInstance.get() as instance:
        if not instance.event_log_storage.supports_global_concurrency_limits:
            print(
                "autoclip pools: this instance has no pools yet: run `dagster instance migrate`",
                file=sys.stderr,
            )
            return 1
        limits = apply_pool_limits(instance, settings)
    for name, limit in limits.items():
        print(f"pool {name}: {limit} at once")
    return 0
