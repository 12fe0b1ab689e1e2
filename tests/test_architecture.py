"""The import rules of ARCHITECTURE.md, read from the code itself (no module is imported).

Each room may import only what its row allows; a broken rule names the file, the line and
the import, so the fix is obvious.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The project's own packages; everything else is a third-party (or standard library) name.
OWN = ("autoclip_core", "autoclip_api", "autoclip_assets", "autoclip_cli", "resources",
       "sensors", "schedules")


@dataclass(frozen=True)
class Rule:
    room: str  # a package or module, dotted
    forbidden: tuple[str, ...]  # dotted prefixes this room must never import
    allowed: tuple[str, ...] = ()  # exceptions to ``forbidden`` (more specific prefixes)
    why: str = ""


RULES = (
    Rule(
        "autoclip_core",
        ("dagster", "autoclip_api", "autoclip_assets", "autoclip_cli", "resources", "sensors",
         "schedules", "fastapi", "starlette"),
        why="domain code is shared by the API and the pipeline, and knows neither",
    ),
    Rule(
        "autoclip_core.render",
        ("sqlalchemy", "alembic", "autoclip_core.db", "autoclip_core.ingest"),
        why="the render engine draws frames from a template and files: no database, no ingestion",
    ),
    Rule(
        "autoclip_api",
        ("dagster", "autoclip_assets", "autoclip_cli", "resources", "sensors", "schedules"),
        allowed=("dagster_graphql", "resources.errors", "resources.publisher.google_oauth",
                 "resources.publisher.tiktok_oauth"),
        why="the API drives Dagster through its GraphQL client only, never asset code; it "
        "connects channels with the publishers' own OAuth clients",
    ),
    Rule(
        "resources",
        ("autoclip_api", "autoclip_assets", "autoclip_cli", "sensors", "schedules"),
        why="resources wrap outside systems for the assets; they know no asset or route",
    ),
    Rule(
        "autoclip_assets",
        ("autoclip_api", "autoclip_cli"),
        why="the asset graph knows neither the API nor the command line",
    ),
    Rule("sensors", ("autoclip_api", "autoclip_cli")),
    Rule("schedules", ("autoclip_api", "autoclip_cli")),
)


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _files(room: str, root: Path = ROOT) -> list[Path]:
    base = root.joinpath(*room.split("."))
    if base.with_suffix(".py").is_file():
        return [base.with_suffix(".py")]
    return sorted(p for p in base.rglob("*.py") if ".venv" not in p.parts)


def violations(rule: Rule, root: Path = ROOT) -> list[str]:
    found = []
    for path in _files(rule.room, root):
        for line, name in _imports(path, root):
            if any(_matches(name, a) for a in rule.allowed):
                continue
            for prefix in rule.forbidden:
                if _matches(name, prefix):
                    found.append(f"{path.relative_to(root)}:{line} imports {name}")
    return sorted(set(found))


@pytest.mark.parametrize("rule", RULES, ids=[r.room for r in RULES])
def test_room_imports_only_what_architecture_allows(rule: Rule) -> None:
    assert _files(rule.room), f"{rule.room} has no files: ARCHITECTURE.md names a room that is gone"
    assert violations(rule) == [], rule.why


def test_rule_check_finds_a_forbidden_import(tmp_path: Path) -> None:
    """The checker itself: a relative import that climbs into a forbidden room is caught."""
    room = tmp_path / "autoclip_core" / "render"
    room.mkdir(parents=True)
    (room / "graph.py").write_text("from ..db import models\nimport dagster as dg\n")
    render = next(r for r in RULES if r.room == "autoclip_core.render")
    core = next(r for r in RULES if r.room == "autoclip_core")
    assert violations(render, tmp_path) == [
        "autoclip_core/render/graph.py:1 imports autoclip_core.db",
        "autoclip_core/render/graph.py:1 imports autoclip_core.db.models",
    ]
    assert violations(core, tmp_path) == ["autoclip_core/render/graph.py:2 imports dagster"]


def test_every_project_package_has_a_rule() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages <= set(OWN), f"a package without import rules: {packages - set(OWN)}"
    assert {r.room.split(".")[0] for r in RULES} >= set(OWN) - {"autoclip_cli"}
