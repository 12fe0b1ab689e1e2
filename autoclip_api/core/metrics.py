"""Prometheus metrics of one app instance (own registry: tests build many apps), and the
listener that serves them apart from the API.

Metrics name routes, failure counts, memory and versions: they are for the operators only, so
no route of the API serves them. ``python -m autoclip_api serve`` starts :func:`metrics_listener`
on ``AUTOCLIP_METRICS_HOST:AUTOCLIP_METRICS_PORT`` (127.0.0.1:9464 by default).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.requests = Counter(
            "autoclip_http_requests_total",
            "HTTP requests by route template, method and status code.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "autoclip_http_request_duration_seconds",
            "HTTP request latency by route template and method.",
            ("method", "route"),
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.auth_events = Counter(
            "autoclip_auth_events_total",
            "Authentication events (login_ok, login_failed, refresh_reuse, rate_limited...).",
            ("event",),
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


@contextmanager
def metrics_listener(host: str, port: int, *, workers: int) -> Iterator[None]:
    """Serves ``http://host:port/metrics``: the sums over every API worker started inside.

    The workers (processes of their own, or this one with a single worker) write their samples
    to files in a fresh directory, named to them by ``PROMETHEUS_MULTIPROC_DIR``
    (prometheus_client's multiprocess mode), and the listener adds them up per series. Process
    figures (memory, CPU) are those of the serving process, so they are shown only when that
    is the one worker.
    """
    directory = tempfile.mkdtemp(prefix="autoclip-metrics-")
    previous = os.environ.get(MULTIPROCESS_DIR_ENV)
    os.environ[MULTIPROCESS_DIR_ENV] = directory
    # prometheus_client picks where values live when it is imported, which this process has
    # done already: pick again, so that a worker running in this very process writes files.
    values.ValueClass = values.get_value_class()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    PlatformCollector(registry=registry)
    if workers == 1:
        ProcessCollector(registry=registry)
    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
        try:
            yield
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_DIR_ENV, None)
        else:
            os.environ[MULTIPROCESS_DIR_ENV] = previous
        values.ValueClass = values.get_value_class()
        shutil.rmtree(directory, ignore_errors=True)
