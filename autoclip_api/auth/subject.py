from __future__ import annotations

from dataclasses import dataclass

from autoclip_api.auth.permissions import Permission, Role, permissions_of


@dataclass(frozen=True, slots=True)
class AuthSubject:
    """Who is calling: the user, their login (``sid``) and their current role in the token's org.

    ``org_version``: the version of the organisation's data read when the request began
    (``core/ratelimit.py``), which keys the caches of that data; None when it is unknown (the
    store (Redis) is unreachable): nothing is then served from, or stored in, those caches.
    """

    user_id: str
    session_id: str
    org_id: str | None
    role: Role | None
    org_version: str | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.role)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


@dataclass(frozen=True, slots=True)
class OrgAccess:
    """A subject acting on the organisation named in the path, with its role there."""

    subject: AuthSubject
    org_id: str
    role: Role
