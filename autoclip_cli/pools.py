"""``autoclip pools``: set the limit of every vendor's Dagster pool from the settings.

Sets them on the instance of ``DAGSTER_HOME`` (unset: the data dir's, ``make dev``'s, made
with the repository's dagster.yaml when there is none yet) for the pools the steps hold under
the settings (``autoclip_assets/pools.py``): ``AUTOCLIP_POOL_LIMITS``, else each vendor's
documented concurrency. ``autoclip dev`` runs it after migrating the instance; a deployment
runs it after ``dagster instance migrate``, or its pools keep dagster.yaml's default limit.
"""

from __future__ import annotations

import argparse
import os
import sys

import dagster as dg

from autoclip_assets.pools import apply_pool_limits
from autoclip_cli.dev import prepare_dagster_home
from autoclip_core.settings import Settings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="autoclip pools", description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    settings = Settings()
    if "DAGSTER_HOME" not in os.environ:
        os.environ["DAGSTER_HOME"] = str(prepare_dagster_home(settings))
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
