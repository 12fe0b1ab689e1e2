"""The API as production runs it: ``python -m autoclip_api serve`` in a process of its own on
127.0.0.1, reached over real TCP from chosen loopback source addresses (127.0.0.2, 127.0.0.3...),
so the server sees a different client address per caller, as it would from the internet."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.api.conftest import FAST_HASHING, JWT_SECRET

STARTUP_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    metrics_url: str
    log: Path

    def client(self, source: str) -> httpx.Client:
        """A client whose connections come from the loopback address ``source``."""
        return httpx.Client(
            base_url=self.base_url,
            transport=httpx.HTTPTransport(local_address=source),
            timeout=20.0,
        )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def live_api(
    tmp_path: Path,
    database_url: str,
    redis_url: str,
    *,
    workers: int = 1,
    **settings: str,
) -> Iterator[LiveServer]:
    """``serve`` with the test database and Redis; ``settings`` become ``AUTOCLIP_*`` variables."""
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "AUTOCLIP_ENV": "test",
        "AUTOCLIP_DATA_DIR": str(tmp_path / "data"),
        "AUTOCLIP_DATABASE_URL": database_url,
        "AUTOCLIP_REDIS_URL": redis_url,
        "AUTOCLIP_JWT_SECRET": JWT_SECRET,
        "AUTOCLIP_METRICS_PORT": str(metrics_port),
        **{f"AUTOCLIP_{k.upper()}": str(v) for k, v in FAST_HASHING.items()},
        **{f"AUTOCLIP_{k.upper()}": v for k, v in settings.items()},
    }
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "autoclip_api", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = LiveServer(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}", log)
    try:
        _wait_until_ready(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_until_ready(server: LiveServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{server.log_text()}")
        try:
            if httpx.get(f"{server.base_url}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"serve did not become ready:\n{server.log_text()}")
