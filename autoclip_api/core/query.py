"""Query parameters a route does not take are refused (422), not ignored: a misspelt ``limit``
or ``state`` would otherwise answer as if it had not been sent (a default page, every state).
So is a parameter of one value given more than once (which one would count is a guess)."""

from __future__ import annotations

from types import UnionType
from typing import Any, Union, get_args, get_origin

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute


def _query_names(dependant: Dependant) -> list[tuple[str, bool]]:
    """The query parameters of a route (its dependencies' too): name, whether it takes
    several values."""
    names = [
        (param.alias, _several(param.field_info.annotation)) for param in dependant.query_params
    ]
    for dependency in dependant.dependencies:
        names += _query_names(dependency)
    return names


def _several(annotation: Any) -> bool:
    members = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else ()
    return any(_several(member) for member in members) or get_origin(annotation) in (
        list, set, tuple, frozenset
    )  # fmt: skip


def _known_query_only(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    taken = dict(_query_names(route.dependant))
    if not taken:  # a route without query parameters documents no 422 for them
        return
    errors = [
        {"type": "extra_forbidden", "loc": ("query", name), "msg": "not a parameter here"}
        for name in sorted(set(request.query_params) - taken.keys())
    ] + [
        {"type": "value_error", "loc": ("query", name), "msg": "given more than once"}
        for name, several in sorted(taken.items())
        if not several and len(request.query_params.getlist(name)) > 1
    ]
    if errors:
        raise RequestValidationError(errors)


KnownQueryOnly = Depends(_known_query_only)
"""A router dependency: its routes refuse query parameters they do not declare."""
