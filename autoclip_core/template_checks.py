"""What an organisation's own template must be before it is stored, previewed or rendered.

A stored template is RenderScript JSON (the engine's subset, ``autoclip_core.render``)
written by a person through the API and rendered on this server, so beyond the engine's
model it must stay small (``MAX_TEMPLATE_BYTES``, fewer than ``MAX_ELEMENTS`` elements:
checked before anything else is) and its media sources may name only http(s) URLs or plain
relative file names: never an absolute path, a home directory or a ``..`` step, which would
let a template read this server's files.

The pipeline fills a project's template by element name (``PIPELINE_ELEMENTS``, see
``autoclip_assets/media.py``); a template a project renders with must have them all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from autoclip_core.render.renderscript import TemplateError, parse_render_script
from autoclip_core.render.templates import BUILTIN_TEMPLATES, walk_elements

MAX_TEMPLATE_BYTES = 256 * 1024
MAX_ELEMENTS = 500
"""A template with this many elements or more (compositions' children included) is refused."""
PIPELINE_ELEMENTS = (
    "Title-Card",
    "Title-Background",
    "Title",
    "Scene",
    "End-Card",
    "End-Background",
    "End-Text",
    "Narration",
    "Music",
)
"""The elements the pipeline fills with an item's title, scenes, narration and music."""


class TemplateTooLargeError(ValueError):
    """The template's JSON is over ``MAX_TEMPLATE_BYTES``."""


@dataclass(frozen=True)
class TemplateProblem:
    """One reason a template is refused: the JSON path of the problem, and what it is."""

    path: str
    message: str


def is_builtin(template_id: str) -> bool:
    return template_id in BUILTIN_TEMPLATES


def json_size(data: Any) -> int:
    """Bytes of ``data`` as compact UTF-8 JSON (how the limit is measured)."""
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())


def check_size(data: Any) -> None:
    size = json_size(data)
    if size > MAX_TEMPLATE_BYTES:
        raise TemplateTooLargeError(
            f"the template is {size} bytes of JSON; at most {MAX_TEMPLATE_BYTES} are allowed"
        )


def count_elements(data: Mapping[str, Any]) -> int:
    elements = data.get("elements")
    return sum(1 for _ in walk_elements(elements)) if isinstance(elements, list) else 0


def unsafe_source(source: str) -> str | None:
    """Why a media ``source`` may not be used in a stored template (None: it may)."""
    scheme = urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        return None
    if scheme:
        return f"unsupported source scheme {scheme!r}: use an http(s) URL or a file name"
    if "\\" in source or "\x00" in source:
        return "a file name may not hold backslashes or NUL"
    path = PurePosixPath(source)
    if path.is_absolute() or source.startswith("~"):
        return "must be an http(s) URL or a relative file name, not a path on the server"
    if ".." in path.parts:
        return "a relative file name may not step out of its folder ('..')"
    return None


def source_problems(data: Mapping[str, Any]) -> Iterator[TemplateProblem]:
    elements = data.get("elements")
    if not isinstance(elements, list):
        return
    for path, element in walk_elements(elements):
        source = element.get("source")
        if isinstance(source, str):
            reason = unsafe_source(source)
            if reason is not None:
                yield TemplateProblem(f"{path}.source", reason)


def template_problems(data: Any) -> list[TemplateProblem]:
    """Everything that keeps ``data`` from being stored as a template (empty: nothing).

    The element count is checked first, so an oversized template is refused before the
    engine's model reads it; then the sources, then the engine's model (its first problem,
    as ``autoclip render`` reports it).
    """
    if not isinstance(data, dict):
        return [TemplateProblem("", "a template is a JSON object")]
    count = count_elements(data)
    if count >= MAX_ELEMENTS:
        return [
            TemplateProblem(
                "elements", f"{count} elements; a template has fewer than {MAX_ELEMENTS}"
            )
        ]
    problems = list(source_problems(data))
    try:
        parse_render_script(data)
    except TemplateError as exc:
        problems.append(TemplateProblem(exc.path, exc.message))
    return problems


def missing_pipeline_elements(data: Mapping[str, Any]) -> list[str]:
    """The ``PIPELINE_ELEMENTS`` the template lacks (the pipeline cannot fill it without)."""
    elements = data.get("elements")
    names = (
        {e.get("name") for _, e in walk_elements(elements)} if isinstance(elements, list) else set()
    )
    return [name for name in PIPELINE_ELEMENTS if name not in names]
