"""``autoclip dev``: the stack comes up (API and Dagster webserver answer) and a SIGTERM stops
every process it started, code servers included, within 10 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
import yaml

from autoclip_cli.dev import Supervisor, free_port, prepare_dagster_home
from autoclip_core.settings import Settings

AUTOCLIP = Path(sys.executable).with_name("autoclip")
STARTUP_TIMEOUT_S = 180.0
STOP_BUDGET_S = 10.0

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


def start_time(pid: int) -> str | None:
    """The process's start time (tells a live process from a reused pid); None: gone or a
    zombie (it has exited)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]


def descendants(pid: int) -> dict[int, str]:
    """Every live process below ``pid``, with its start time."""
    found: dict[int, str] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            started = start_time(child)
            if started is not None:
                found[child] = started
                pending.append(child)
    return found


def still_alive(processes: dict[int, str]) -> list[int]:
    return [pid for pid, started in processes.items() if start_time(pid) == started]


def wait_gone(processes: dict[int, str], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (alive := still_alive(processes)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def wait_for_stack(
    dev: subprocess.Popen[bytes], log: Path, api_port: int, dagster_port: int
) -> tuple[httpx.Response, httpx.Response]:
    """The API's ``/healthz`` and the webserver's ``/server_info``, once both answer."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert dev.poll() is None, log.read_text(errors="replace")[-4000:]
        try:
            health = httpx.get(f"http://127.0.0.1:{api_port}/healthz", timeout=2)
            info = httpx.get(f"http://127.0.0.1:{dagster_port}/server_info", timeout=2)
        except httpx.HTTPError:
            time.sleep(0.5)
            continue
        return health, info
    pytest.fail(f"not up within {STARTUP_TIMEOUT_S:.0f} s:\n{log.read_text(errors='replace')}")


STUBBORN = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    time.sleep(120)
    """
)


def test_a_group_that_ignores_the_signal_is_killed_after_the_grace_period(
    tmp_path: Path,
) -> None:
    supervisor = Supervisor(os.environ, cwd=tmp_path, grace_seconds=1.0)
    polite = supervisor.start("polite", [sys.executable, "-c", "import time; time.sleep(120)"])
    stubborn = supervisor.start("stubborn", [sys.executable, "-c", STUBBORN])
    deadline = time.monotonic() + 30
    while not descendants(stubborn.pid) and time.monotonic() < deadline:  # SIGTERM ignored
        time.sleep(0.05)
    group = descendants(polite.pid) | descendants(stubborn.pid)
    group |= {p.pid: str(start_time(p.pid)) for p in (polite, stubborn)}
    assert len(group) == 3  # the stubborn one's own child too

    started = time.monotonic()
    supervisor.stop()
    took = time.monotonic() - started

    assert 1.0 <= took < 3.0  # the grace period, then SIGKILL
    assert polite.returncode == -signal.SIGTERM
    assert stubborn.returncode == -signal.SIGKILL
    assert still_alive(group) == []


def test_a_stop_passes_on_the_signal_it_received(tmp_path: Path) -> None:
    supervisor = Supervisor(os.environ, cwd=tmp_path, grace_seconds=5.0)
    child = supervisor.start("child", [sys.executable, "-c", "import time; time.sleep(120)"])
    supervisor._on_signal(signal.SIGINT, None)
    assert supervisor.stopping.is_set()

    supervisor.stop()

    assert child.returncode == -signal.SIGINT


def test_dev_serves_the_api_and_dagster_then_stops_everything_within_10_s_of_sigterm(
    tmp_path: Path,
) -> None:
    api_port, dagster_port = free_port(), free_port()
    env = {
        **os.environ,
        "AUTOCLIP_DATA_DIR": str(tmp_path / "data"),
        "AUTOCLIP_API_PORT": str(api_port),
        "AUTOCLIP_DAGSTER_PORT": str(dagster_port),
        "AUTOCLIP_METRICS_PORT": "0",
        "AUTOCLIP_FEEDS": "",
    }
    env.pop("AUTOCLIP_DATABASE_URL", None)  # the local default: SQLite in the data dir
    log = tmp_path / "dev.log"
    with log.open("wb") as out:
        dev = subprocess.Popen(
            [str(AUTOCLIP), "dev"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        health, info = wait_for_stack(dev, log, api_port, dagster_port)
        assert health.json() == {"status": "ok"}
        assert "dagster_webserver_version" in info.json()
        assert (tmp_path / "data" / "dagster" / "dagster.yaml").is_file()
        assert (tmp_path / "data" / "autoclip.db").is_file()
        assert "pool ffmpeg: 1 at once" in log.read_text()  # the instance's pool limits

        processes = descendants(dev.pid)
        commands = " ".join(
            Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ") for pid in processes
        )
        for part in (
            "code-server start",
            "dagster-webserver",
            "dagster-daemon",
            "autoclip_api serve",
        ):
            assert part in commands

        started = time.monotonic()
        dev.send_signal(signal.SIGTERM)
        dev.wait(STOP_BUDGET_S)
        alive = wait_gone(processes, STOP_BUDGET_S - (time.monotonic() - started))
        took = time.monotonic() - started
    finally:
        if dev.poll() is None:
            dev.kill()
            dev.wait()

    assert alive == [], f"still running: {alive}"
    assert took < STOP_BUDGET_S
    assert dev.returncode == 0, log.read_text(errors="replace")[-4000:]
    for port in (api_port, dagster_port):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)


def test_a_dagster_postgres_url_puts_the_instance_storage_on_postgresql_until_unset(
    tmp_path: Path,
) -> None:
    url = "postgresql+psycopg2://dagster:s3cret@db.example:5432/dagster"
    instance_yaml = prepare_dagster_home(Settings(data_dir=tmp_path)) / "dagster.yaml"
    assert "storage" not in yaml.safe_load(instance_yaml.read_text())

    prepare_dagster_home(Settings(data_dir=tmp_path, dagster_postgres_url=url))
    instance = yaml.safe_load(instance_yaml.read_text())
    assert instance["storage"] == {
        "postgres": {"postgres_url": {"env": "AUTOCLIP_DAGSTER_POSTGRES_URL"}}
    }
    assert instance["run_queue"] == {"dequeue_interval_seconds": 1}  # the rest is kept
    assert "s3cret" not in instance_yaml.read_text()

    prepare_dagster_home(Settings(data_dir=tmp_path))
    assert "storage" not in yaml.safe_load(instance_yaml.read_text())
