"""Roles and permissions: THE permission table. Nothing else grants anything."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class Permission(StrEnum):
    PROJECTS_CREATE = "projects.create"
    PROJECTS_READ = "projects.read"
    PROJECTS_UPDATE = "projects.update"
    PROJECTS_DELETE = "projects.delete"
    CONTENTS_CREATE = "contents.create"
    CONTENTS_APPROVE = "contents.approve"
    CONTENTS_PUBLISH = "contents.publish"
    ANALYTICS_READ = "analytics.read"
    SETTINGS_MODIFY = "settings.modify"


P = Permission
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(
        {
            P.PROJECTS_CREATE,
            P.PROJECTS_READ,
            P.PROJECTS_UPDATE,
            P.PROJECTS_DELETE,
            P.CONTENTS_CREATE,
            P.CONTENTS_APPROVE,
            P.CONTENTS_PUBLISH,
            P.ANALYTICS_READ,
        }
    ),
    # Editors make and publish videos; the review decision is an owner's or admin's.
    Role.EDITOR: frozenset(
        {
            P.PROJECTS_READ,
            P.CONTENTS_CREATE,
            P.CONTENTS_PUBLISH,
            P.ANALYTICS_READ,
        }
    ),
    Role.VIEWER: frozenset({P.PROJECTS_READ, P.ANALYTICS_READ}),
}


def permissions_of(role: Role | str | None) -> frozenset[Permission]:
    if role is None:
        return frozenset()
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()


def sorted_permissions(role: Role | str | None) -> list[str]:
    return sorted(p.value for p in permissions_of(role))
