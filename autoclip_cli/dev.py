"""``autoclip dev``: the Dagster webserver, the Dagster daemon and the API, together.

Migrates the app database (``python -m autoclip_api migrate``) and the Dagster instance
(``dagster instance migrate``) and sets its pools' limits (``autoclip pools``) first, then
starts the processes, all state under ``AUTOCLIP_DATA_DIR`` (the instance in its
``dagster/``): one Dagster code server of the pipeline (``workspace.yaml``'s module) that the
webserver and the daemon share, the webserver on ``AUTOCLIP_DAGSTER_PORT``, the daemon, and
the API on ``AUTOCLIP_API_PORT``, pointed at the webserver's GraphQL endpoint. Loading
``workspace.yaml`` themselves, the webserver and the daemon would each start a code server of
their own and import the pipeline twice, CPU and memory taken from the renders; the shared one
also launches the runs.
Ctrl-C or SIGTERM stops them all: each runs in a process group of its own (with whatever it
starts: runs), the signal is passed on to every group, and a group still alive after the grace
period is killed. A process that exits by itself stops the others (a half stack only confuses).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
import httpx
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from autoclip_core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DAGSTER_YAML = ROOT / "dagster.yaml"
WORKSPACE_YAML = ROOT / "workspace.yaml"
GRACE_SECONDS = 7.0
"""How long the processes get to stop after the signal before they are killed: the whole
stop stays within 10 s."""
KILL_SECONDS = 1.0
"""How long killed processes get to disappear."""
POLL_SECONDS = 0.1
PROBE_TIMEOUT_S = 2.0
LOADED_REPOSITORIES = "{ repositoriesOrError { ... on RepositoryConnection { nodes { name } } } }"
PR_SET_CHILD_SUBREAPER = 36
POSTGRES_STORAGE = {"postgres": {"postgres_url": {"env": "AUTOCLIP_DAGSTER_POSTGRES_URL"}}}
"""The instance's storage with ``AUTOCLIP_DAGSTER_POSTGRES_URL`` set: read from the environment
by every Dagster process, so no password is written to the file."""

Output = int | IO[bytes] | None


def prepare_dagster_home(settings: Settings) -> Path:
    """DAGSTER_HOME inside the data dir, with the repository's dagster.yaml unless the
    instance has its own already (an edited one is kept). With ``dagster_postgres_url`` set,
    the instance's storage is that PostgreSQL database (production's storage); unset, the
    storage this wrote is taken out again (the SQLite files in the folder)."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    instance_yaml = home / "dagster.yaml"
    if DAGSTER_YAML.is_file() and not instance_yaml.is_file():
        shutil.copyfile(DAGSTER_YAML, instance_yaml)
    instance = yaml.safe_load(instance_yaml.read_text()) if instance_yaml.is_file() else None
    instance = instance or {}
    if settings.dagster_postgres_url:
        instance["storage"] = POSTGRES_STORAGE
    elif instance.get("storage") == POSTGRES_STORAGE:
        del instance["storage"]
    else:
        return home
    instance_yaml.write_text(yaml.safe_dump(instance, sort_keys=False))
    return home


def _executable(name: str) -> str:
    """A console script of this environment (next to its python), else one on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    """What ``autoclip dev`` runs, and how: one place for the commands and their environment
    (the end-to-end tests and the flow benches start the same processes). The code server must
    answer (:meth:`code_ready`) before the webserver and the daemon start: they load the
    pipeline from it once, at start."""

    settings: Settings
    dagster_host: str = "127.0.0.1"
    code_port: int = field(default_factory=free_port)
    """The code server's port (internal: a free one)."""

    @property
    def dagster_port(self) -> int:
        return self.settings.dagster_port

    @property
    def dagster_url(self) -> str:
        return f"http://{self.dagster_host}:{self.dagster_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}"

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Every process's environment: the data dir absolute (the processes share it), the
        instance in it, and the API submitting to this webserver."""
        return {
            **(os.environ if base is None else base),
            "AUTOCLIP_DATA_DIR": str(self.settings.root),
            "DAGSTER_HOME": str(self.settings.dagster_home),
            "AUTOCLIP_DAGSTER_GRAPHQL_URL": f"{self.dagster_url}/graphql",
        }

    def migrations(self) -> list[tuple[str, list[str], bool]]:
        """Name, command and whether its output is only noise (Dagster lists every table)."""
        return [
            ("migrate app database", [sys.executable, "-m", "autoclip_api", "migrate"], False),
            ("migrate dagster instance", [_executable("dagster"), "instance", "migrate"], True),
            ("set pool limits", [sys.executable, "-m", "autoclip_cli.main", "pools"], False),
        ]

    @property
    def workspace(self) -> Path:
        """The workspace the webserver and the daemon load: the code server, by port."""
        return self.settings.dagster_home / "workspace.yaml"

    def code_server(self) -> list[str]:
        """``workspace.yaml``'s module, served for the webserver and the daemon; it also
        launches the runs."""
        [origin] = yaml.safe_load(WORKSPACE_YAML.read_text())["load_from"]
        module = origin["python_module"]
        self.workspace.parent.mkdir(parents=True, exist_ok=True)
        served = {
            "host": "127.0.0.1",
            "port": self.code_port,
            "location_name": module["location_name"],
        }
        self.workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": served}]}))
        return [
            _executable("dagster"), "code-server", "start", "-m", module["module_name"],
            "--location-name", module["location_name"], "-h", "127.0.0.1",
            "-p", str(self.code_port),
        ]  # fmt: skip

    def code_ready(self) -> bool:
        """The code server has loaded the pipeline (its gRPC health check says so)."""
        try:
            with grpc.insecure_channel(f"127.0.0.1:{self.code_port}") as channel:
                answer = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=PROBE_TIMEOUT_S
                )
        except grpc.RpcError:
            return False
        return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)

    def webserver(self) -> list[str]:
        return [
            _executable("dagster-webserver"), "-w", str(self.workspace),
            "-h", self.dagster_host, "-p", str(self.dagster_port),
        ]  # fmt: skip

    def daemon(self) -> list[str]:
        return [_executable("dagster-daemon"), "run", "-w", str(self.workspace)]

    def api(self) -> list[str]:
        return [
            sys.executable, "-m", "autoclip_api", "serve",
            "--host", self.settings.api_host, "--port", str(self.settings.api_port),
        ]  # fmt: skip

    def services(self) -> list[tuple[str, list[str]]]:
        """What loads the pipeline from the code server: start these once it is ready."""
        return [("dagster-webserver", self.webserver()), ("dagster-daemon", self.daemon())]

    def graphql(self, query: str, **variables: object) -> dict[str, Any]:
        """The ``data`` of a query to the webserver's GraphQL endpoint."""
        response = httpx.post(
            f"{self.dagster_url}/graphql",
            json={"query": query, "variables": variables},
            timeout=PROBE_TIMEOUT_S * 10,
        )
        body = response.json()
        if body.get("errors") or not isinstance(body.get("data"), dict):
            raise RuntimeError(f"Dagster GraphQL: {body.get('errors') or 'no data'}")
        data: dict[str, Any] = body["data"]
        return data

    def ready(self) -> bool:
        """The API reaches its database and the webserver has loaded the pipeline's code."""
        try:
            api = httpx.get(f"{self.api_url}/readyz", timeout=PROBE_TIMEOUT_S)
            if api.status_code != 200:
                return False
            loaded = self.graphql(LOADED_REPOSITORIES)["repositoriesOrError"]
        except (httpx.HTTPError, ValueError, RuntimeError):
            return False
        return bool(loaded.get("nodes"))

    def announce_when_ready(self, stopping: threading.Event) -> None:
        """Say where everything is once it all answers (the logs above are long)."""
        while not stopping.wait(POLL_SECONDS * 5):
            if self.ready():
                print(
                    f"autoclip dev: ready — API {self.api_url}/api/v1 · Dagster UI "
                    f"{self.dagster_url} · data {self.settings.root}",
                    file=sys.stderr,
                    flush=True,
                )
                return


@dataclass
class Supervisor:
    """Child processes, each in a process group of its own, stopped together."""

    env: Mapping[str, str]
    cwd: Path = ROOT
    grace_seconds: float = GRACE_SECONDS
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)
    received: int | None = None

    def handle_signals(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.received is None:
            self.received = signum
        self.stopping.set()

    def start(
        self, name: str, command: Sequence[str], *, stdout: Output = None, stderr: Output = None
    ) -> subprocess.Popen[bytes]:
        """``stdout``/``stderr`` as for :class:`subprocess.Popen` (None: this process's)."""
        child = subprocess.Popen(
            list(command),
            cwd=self.cwd,
            env=dict(self.env),
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        self.children[name] = child
        return child

    def run_step(self, name: str, command: Sequence[str], *, quiet: bool = False) -> int:
        """A step that must finish before the services start; its exit code (or -signal when
        a stop was asked for meanwhile)."""
        child = self.start(name, command, stdout=subprocess.DEVNULL if quiet else None)
        while child.poll() is None:
            self.reap_orphans()
            if self.stopping.wait(POLL_SECONDS):
                self.stop()
                return -(self.received or signal.SIGTERM)
        del self.children[name]
        return child.returncode

    def watch(self, done: Callable[[], bool] | None = None) -> tuple[str, int] | None:
        """Until ``done()`` (never, without it) or a stop is asked for: None; or the first
        child that exits meanwhile, with its code."""
        while not self.stopping.wait(POLL_SECONDS * 5):
            ended = self.exited()
            if ended is not None or (done is not None and done()):
                return ended
        return None

    def exited(self) -> tuple[str, int] | None:
        """The first child that has exited, with its code."""
        self.reap_orphans()
        for name, child in self.children.items():
            if child.poll() is not None:
                return name, child.returncode
        return None

    def stop(self, signum: int | None = None) -> None:
        """``signum`` (default: the signal received, else SIGTERM) to every group, then
        SIGKILL to what is still alive after the grace period."""
        signum = signum or self.received or signal.SIGTERM
        groups = [child.pid for child in self.children.values()]
        for group in groups:
            _signal_group(group, signum)
        self._wait_gone(groups, self.grace_seconds)
        for group in groups:
            _signal_group(group, signal.SIGKILL)
        self._wait_gone(groups, KILL_SECONDS)
        for child in self.children.values():
            child.wait()

    def _wait_gone(self, groups: list[int], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and any(_group_alive(g) for g in groups):
            for child in self.children.values():
                child.poll()
            self.reap_orphans()
            time.sleep(POLL_SECONDS / 2)

    def reap_orphans(self) -> None:
        """Collect descendants whose parent died before them (ours once this process is a
        subreaper, see :func:`become_subreaper`)."""
        ours = {child.pid for child in self.children.values()}
        try:
            for pid in _zombie_children(os.getpid()):
                if pid not in ours:
                    os.waitpid(pid, os.WNOHANG)
        except OSError:
            pass


def become_subreaper() -> None:
    """Orphaned descendants (a code server whose webserver died) become this process's
    children, so they are reaped here instead of lingering as zombies (Linux only)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _zombie_children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if not children.exists():
        return []
    zombies = []
    for child in children.read_text().split():
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            zombies.append(int(child))
    return zombies


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(group: int) -> bool:
    """A live (not zombie) process is in the group."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="autoclip dev", description=__doc__.split("\n")[0])
    parser.add_argument("--api-port", type=int, help="default: AUTOCLIP_API_PORT (8000)")
    parser.add_argument("--dagster-port", type=int, help="default: AUTOCLIP_DAGSTER_PORT (3000)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    overrides = {"api_port": args.api_port, "dagster_port": args.dagster_port}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    stack = Stack(settings)
    prepare_dagster_home(settings)
    become_subreaper()
    supervisor = Supervisor(stack.env())
    supervisor.handle_signals()
    for name, command, quiet in stack.migrations():
        code = supervisor.run_step(name, command, quiet=quiet)
        if code != 0:
            print(f"autoclip dev: {name} failed ({code})", file=sys.stderr)
            return 0 if supervisor.received else 1
    supervisor.start("dagster-code-server", stack.code_server())
    supervisor.start("api", stack.api())
    ended = supervisor.watch(stack.code_ready)
    if ended is None:
        for name, command in stack.services():
            supervisor.start(name, command)
        threading.Thread(
            target=stack.announce_when_ready, args=(supervisor.stopping,), daemon=True
        ).start()
        ended = supervisor.watch()
    if ended is not None:
        name, code = ended
        print(f"autoclip dev: {name} exited ({code}); stopping the others", file=sys.stderr)
        supervisor.stop()
        return 1
    started = time.monotonic()
    supervisor.stop()
    print(f"autoclip dev: stopped in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0
