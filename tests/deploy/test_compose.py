"""The deploy files, read as Docker Compose, the Dockerfile and Helm would read them (Docker does
not run here): every process of the compose stack can start, in the right order, with what the
image installs."""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from dagster._core.instance.config import dagster_instance_config
from dagster._core.launcher import RunLauncher
from dagster._serdes.config_class import ConfigurableClassData
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yaml"
HELM_VALUES = DEPLOY / "helm" / "values.yaml"
MIGRATE = ["python", "-m", "autoclip_api", "migrate"]
POOLS = ["python", "-m", "autoclip_cli.main", "pools"]
SERVE = ["python", "-m", "autoclip_api", "serve"]
DAGSTER_PROCESSES = ("dagster", "dagster-webserver", "dagster-daemon")
DEFAULT_LAUNCHER = {"module": "dagster._core.launcher", "class": "DefaultRunLauncher"}


# reading the files ----------------------------------------------------------------------------


class Dockerfile:
    def __init__(self, path: Path) -> None:
        self.env: dict[str, str] = {}
        self.copies: list[tuple[list[str], str]] = []  # (sources, destination) before `pip`
        self.cmd: list[str] = []
        self.copied_before_install: set[str] = set()
        installed = False
        text = re.sub(r"\\\n", " ", path.read_text())
        for line in text.splitlines():
            instruction, _, rest = line.strip().partition(" ")
            instruction = instruction.upper()
            if instruction == "ENV":
                self.env.update(dict(pair.split("=", 1) for pair in shlex.split(rest)))
            elif instruction == "COPY":
                *sources, destination = [a for a in shlex.split(rest) if not a.startswith("--")]
                self.copies.append((sources, destination))
                if not installed:
                    self.copied_before_install.update(s.rstrip("/") for s in sources)
            elif instruction == "RUN" and "pip install ." in rest:
                installed = True
            elif instruction == "CMD":
                self.cmd = yaml.safe_load(rest)

    def source_of(self, target: str) -> Path | None:
        """The build-context file the image holds at ``target`` (context: the repo root)."""
        for sources, destination in self.copies:
            for source in sources:
                at = PurePosixPath(destination)
                if destination.endswith("/") or len(sources) > 1:
                    at = at / PurePosixPath(source).name
                elif not at.is_absolute():
                    at = PurePosixPath("/app") / at
                if str(at) == target:
                    return ROOT / source
        return None


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def _image_services() -> Iterator[tuple[str, dict[str, Any], Dockerfile]]:
    """The compose services that run the project's image, with its Dockerfile."""
    for name, service in _compose()["services"].items():
        build = service.get("build")
        if build is None:
            continue
        context = (COMPOSE.parent / build.get("context", ".")).resolve()
        yield name, service, Dockerfile(context / build.get("dockerfile", "Dockerfile"))


def _command(service: dict[str, Any], dockerfile: Dockerfile) -> list[str]:
    command = service.get("command", dockerfile.cmd)
    return shlex.split(command) if isinstance(command, str) else list(command)


def _runs(command: list[str], program: list[str]) -> bool:
    """Whether ``command`` runs ``program`` (directly or inside ``sh -c "... && ..."``)."""
    if command[:2] == ["sh", "-c"]:
        return any(_runs(shlex.split(part), program) for part in re.split(r"&&|;", command[2]))
    return command[: len(program)] == program


def _bind_mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Target in the container → file of the repo, for every bind mount of a service."""
    mounts = {}
    for volume in service.get("volumes", ()):
        source, target, *_ = volume.split(":")
        if source.startswith((".", "/")):
            mounts[target] = (COMPOSE.parent / source).resolve()
    return mounts


def _instance_file(service: dict[str, Any], dockerfile: Dockerfile) -> Path | None:
    """The file a service's Dagster processes load as their instance ($DAGSTER_HOME)."""
    home = service.get("environment", {}).get("DAGSTER_HOME", dockerfile.env.get("DAGSTER_HOME"))
    if home is None:
        return None
    target = f"{home.rstrip('/')}/dagster.yaml"
    return _bind_mounts(service).get(target) or dockerfile.source_of(target)


def _image_distributions() -> set[str]:
    """What ``pip install .`` puts into the image: the project's dependencies, transitively."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pending = [Requirement(r) for r in project["dependencies"]]
    found: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in found or (
            requirement.marker is not None and not requirement.marker.evaluate({"extra": ""})
        ):
            continue
        found.add(name)
        try:
            pending.extend(Requirement(r) for r in requires(requirement.name) or ())
        except PackageNotFoundError:
            pass  # not installed here: its own dependencies cannot be listed
    return found


# the compose stack ----------------------------------------------------------------------------


def test_every_file_compose_mounts_is_in_the_repo() -> None:
    for name, service in _compose()["services"].items():
        for target, source in _bind_mounts(service).items():
            assert source.is_file(), f"{name}: {source} (mounted at {target}) does not exist"


def test_every_dagster_instance_of_the_stack_names_a_launcher_the_image_installs() -> None:
    distributions = _image_distributions()
    modules = packages_distributions()
    checked = 0
    for name, service, dockerfile in _image_services():
        if _command(service, dockerfile)[0] not in DAGSTER_PROCESSES:
            continue
        instance = _instance_file(service, dockerfile)
        assert instance is not None, f"{name}: no dagster.yaml in its DAGSTER_HOME"
        config, _ = dagster_instance_config(str(instance.parent), instance.name)  # valid schema
        launcher = config.get("run_launcher") or DEFAULT_LAUNCHER
        module = launcher["module"]
        providers = {canonicalize_name(d) for d in modules.get(module.split(".")[0], ())}
        assert providers & distributions, (
            f"{name}: {instance.name} launches runs with {module}.{launcher['class']}, which no "
            "dependency of pyproject.toml installs into the image"
        )
        ConfigurableClassData(
            module, launcher["class"], yaml.safe_dump(launcher.get("config") or {})
        ).rehydrate(as_type=RunLauncher)
        checked += 1
    assert checked >= 3  # code server, webserver, daemon


def test_the_api_and_every_dagster_service_start_after_a_successful_migrate() -> None:
    services = {name: (service, dockerfile) for name, service, dockerfile in _image_services()}
    migrates = [n for n, (s, d) in services.items() if _runs(_command(s, d), MIGRATE)]
    apis = [n for n, (s, d) in services.items() if _runs(_command(s, d), SERVE)]
    assert len(migrates) == 1, "one one-shot service runs `python -m autoclip_api migrate`"
    assert apis, "a service runs the API (`python -m autoclip_api serve`)"
    dagster = [n for n, (s, d) in services.items() if _command(s, d)[0] in DAGSTER_PROCESSES]
    assert {"dagster-webserver", "dagster-daemon"} <= {_command(*services[n])[0] for n in dagster}
    (migrate,) = migrates
    assert _runs(_command(*services[migrate]), POOLS), "the release sets the vendor pools' limits"
    for name in [*apis, *dagster]:
        depends = services[name][0].get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on without conditions"
        assert depends.get(migrate) == {"condition": "service_completed_successfully"}, name
    postgres = services[migrate][0]["depends_on"]
    assert postgres == {"postgres": {"condition": "service_healthy"}}
    assert "healthcheck" in _compose()["services"]["postgres"]


def test_dagster_storage_and_the_app_database_are_different_databases() -> None:
    # Both have a `jobs` table: sharing one database breaks whichever creates it second.
    postgres = _compose()["services"]["postgres"]
    init_sql = " ".join(
        source.read_text()
        for target, source in _bind_mounts(postgres).items()
        if target.startswith("/docker-entrypoint-initdb.d/")
    )
    created = {postgres["environment"]["POSTGRES_DB"]}
    created |= set(re.findall(r"(?i)create\s+database\s+(\w+)", init_sql))
    for name, service, _ in _image_services():
        env = service["environment"]
        app = make_url(env["AUTOCLIP_DATABASE_URL"]).database
        assert app != env["DAGSTER_PG_DB"], name
        assert {app, env["DAGSTER_PG_DB"]} <= created, f"{name}: a database nothing creates"


def test_the_image_installs_every_package_of_the_project() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {
        path.name
        for path in ROOT.iterdir()
        if path.is_dir() and any(fnmatch(path.name, p) for p in patterns)
    }
    assert packages
    for _, _, dockerfile in _image_services():
        missing = sorted(packages - dockerfile.copied_before_install)
        assert not missing, f"not copied before `pip install .`: {missing}"


# Kubernetes -----------------------------------------------------------------------------------


def test_kubernetes_keeps_the_k8s_run_launcher_and_migrates_on_release() -> None:
    values = yaml.safe_load(HELM_VALUES.read_text())
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    commands = [
        c.get("command", []) + c.get("args", []) for c in values["migrate"]["initContainers"]
    ]
    assert MIGRATE in commands
    deployment = values["dagster-user-deployments"]["deployments"][0]["image"]
    image = f"{deployment['repository']}:{deployment['tag']}"
    assert [c["image"] for c in values["migrate"]["initContainers"]] == [image]
