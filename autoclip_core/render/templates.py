"""Templates as JSON: the built-in ones, user files, modifications and repeated slots.

Everything here works on the parsed JSON (dicts), before validation, so that errors
point at the template the user wrote; ``parse_render_script`` validates the result.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from autoclip_core.render.renderscript import RenderScript, TemplateError, parse_render_script

BUILTIN_DIR = Path(__file__).parent / "builtin_templates"
BUILTIN_TEMPLATES = ("short", "long", "square")

Json = dict[str, Any]


def builtin_template_path(name: str) -> Path:
    if name not in BUILTIN_TEMPLATES:
        raise TemplateError("", f"no built-in template {name!r}; one of {BUILTIN_TEMPLATES}")
    return BUILTIN_DIR / f"{name}.json"


def read_json(path: Path, what: str = "template") -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError("", f"{what} file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError("", f"cannot read {what} {path}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError("", f"{path} is not JSON: {exc.msg} (line {exc.lineno})") from None


def load_template(name_or_path: str | Path) -> Json:
    """A built-in template by name (``short``/``long``/``square``) or a JSON file."""
    if isinstance(name_or_path, str) and name_or_path in BUILTIN_TEMPLATES:
        path = builtin_template_path(name_or_path)
    else:
        path = Path(name_or_path)
    data = read_json(path)
    if not isinstance(data, dict):
        raise TemplateError("", f"{path}: a template is a JSON object")
    return data


def walk_elements(
    elements: list[Any], path: str = "elements"
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every element dict with its JSON path, compositions' children included."""
    for i, element in enumerate(elements):
        if not isinstance(element, dict):
            continue
        here = f"{path}[{i}]"
        yield here, element
        children = element.get("elements")
        if isinstance(children, list):
            yield from walk_elements(children, f"{here}.elements")


def find_element(data: Json, name: str) -> dict[str, Any] | None:
    for _, element in walk_elements(data.get("elements") or []):
        if element.get("name") == name:
            return element
    return None


SHORTHAND_PROPERTY = {"text": "text", "image": "source", "video": "source", "audio": "source"}


def apply_modifications(data: Json, modifications: Mapping[str, Any]) -> Json:
    """A copy of ``data`` with ``{"Element.property": value}`` applied.

    ``{"Element": value}`` sets a text element's ``text`` or a media element's ``source``,
    as on Creatomate. Names are searched in compositions too.
    """
    result = copy.deepcopy(data)
    for key, value in modifications.items():
        name, dot, prop = key.rpartition(".")
        if not dot or find_element(result, name) is None:
            name, prop = key, ""
        element = find_element(result, name)
        if element is None:
            raise TemplateError(f"modifications[{key!r}]", f"no element named {name!r}")
        if not prop:
            prop = SHORTHAND_PROPERTY.get(str(element.get("type")), "")
            if not prop:
                raise TemplateError(
                    f"modifications[{key!r}]",
                    f"say which property of {name!r} to set, e.g. '{name}.fill_color'",
                )
        element[prop] = value
    return result


def repeat_element(data: Json, name: str, count: int) -> Json:
    """A copy of ``data`` where element ``name`` is repeated ``count`` times as ``name-1``…

    How the pipeline fills a template with as many scenes as the narration has parts: the
    template has one ``Scene`` element; copies follow each other on its track.
    """
    if count < 1:
        raise TemplateError("", f"cannot repeat {name!r} {count} times")
    result = copy.deepcopy(data)
    for _, parent in [("", result), *walk_elements(result.get("elements") or [])]:
        children = parent.get("elements")
        if not isinstance(children, list):
            continue
        for i, element in enumerate(children):
            if isinstance(element, dict) and element.get("name") == name:
                copies = []
                for n in range(1, count + 1):
                    clone = copy.deepcopy(element)
                    clone["name"] = f"{name}-{n}"
                    copies.append(clone)
                children[i : i + 1] = copies
                return result
    raise TemplateError("", f"template has no element named {name!r} to repeat")


def build_render_script(
    template: str | Path | Json, modifications: Mapping[str, Any] | None = None
) -> RenderScript:
    """Template (name, path or JSON) + modifications → a validated RenderScript."""
    data = template if isinstance(template, dict) else load_template(template)
    return parse_render_script(apply_modifications(data, modifications or {}))
