"""Authentication and authorization as dependencies.

Every route declares exactly what it needs through one of the guards below (a test fails for a
route without one): :data:`Public`, :data:`Authenticated`, ``Authorize(permission)`` (a
permission in the token's organisation) or ``AuthorizeOrg(permission)`` (a permission in the
organisation of the ``{org_id}`` path parameter; non-members get the same 404 as for a missing
organisation). Domains wrap them in ``Annotated`` aliases (``projects/auth.py``...).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from autoclip_api.auth.permissions import Permission, Role, permissions_of
from autoclip_api.auth.sessions import session_service
from autoclip_api.auth.subject import AuthSubject, OrgAccess
from autoclip_api.context import ApiDep
from autoclip_api.core.db import SessionDep
from autoclip_api.core.errors import Forbidden, NotFound, TooManyRequests, Unauthorized
from autoclip_api.core.ratelimit import Admission, LimiterUnavailable
from autoclip_api.core.types import is_hex_id
from autoclip_api.organizations.repository import MembershipRepository
from autoclip_core.cache_versions import org_scope, user_scope

bearer = HTTPBearer(auto_error=False, description="Access token from /auth/login.")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def current_subject(request: Request, api: ApiDep, credentials: BearerDep) -> AuthSubject:
    """The caller of a Bearer-authenticated request, counted against the per-user limit.

    One round trip to the rate-limit store (Redis) counts the request and reads the versions
    of the user's and the organisation's data; the session then comes from the cache at that
    version (or the database). A request that fails authentication is not counted. When Redis
    is down the general limit fails open and the caches are bypassed: reads keep working.
    """
    if credentials is None:
        raise Unauthorized()
    claims = session_service.decode(api, credentials.credentials)
    limit_key = f"user:{claims.user_id}"
    scopes = [user_scope(claims.user_id)]
    if claims.org_id is not None:
        scopes.append(org_scope(claims.org_id))
    try:
        admission: Admission | None = await api.limiter.admit(
            limit_key,
            limit=api.settings.api_rate_limit_per_minute,
            window_seconds=60,
            scopes=scopes,
        )
    except LimiterUnavailable:
        admission = None
    user_version = org_version = None
    if admission is not None:
        user_version = admission.versions[0]
        org_version = admission.versions[1] if claims.org_id is not None else None
    try:
        subject = await session_service.authenticate(
            api, claims, user_version=user_version, org_version=org_version
        )
    except Unauthorized:
        if admission is not None:
            with suppress(LimiterUnavailable):
                await api.limiter.refund(limit_key)
        raise
    request.state.user_id = subject.user_id
    if admission is not None and not admission.hit.allowed:
        api.metrics.auth_events.labels("api_rate_limited").inc()
        raise TooManyRequests(admission.hit.reset_after, "Rate limit exceeded")
    return subject


CurrentSubject = Annotated[AuthSubject, Depends(current_subject)]


class RouteGuard:
    """Marker base of the guards; ``policy`` names what a route requires (shown in OpenAPI)."""

    policy: str


class PublicGuard(RouteGuard):
    policy = "public"

    async def __call__(self) -> None:
        return None


class AuthenticatedGuard(RouteGuard):
    policy = "authenticated"

    async def __call__(self, subject: CurrentSubject) -> AuthSubject:
        return subject


class Authorize(RouteGuard):
    """A permission in the token's organisation (looked up fresh on every request)."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission
        self.policy = permission.value

    async def __call__(self, subject: CurrentSubject) -> AuthSubject:
        if subject.org_id is None:
            raise Forbidden("No organisation selected: sign in with an organisation")
        if not subject.can(self.permission):
            raise Forbidden(f"Your role does not allow {self.permission.value}")
        return subject


class AuthorizeOrg(RouteGuard):
    """A permission in the path's organisation (None: any member); a non-member sees a 404,
    as for a missing one."""

    def __init__(self, permission: Permission | None) -> None:
        self.permission = permission
        self.policy = f"{permission.value if permission else 'member'} (in {{org_id}})"

    def __call__(self, org_id: str, subject: CurrentSubject, session: SessionDep) -> OrgAccess:
        role = (
            MembershipRepository(session).role_of(subject.user_id, org_id)
            if is_hex_id(org_id)
            else None
        )
        if role is None:
            raise NotFound("Organization not found")
        if self.permission is not None and self.permission not in permissions_of(role):
            raise Forbidden(f"Your role does not allow {self.permission.value}")
        return OrgAccess(subject, org_id, Role(role))


Public = Depends(PublicGuard())
Authenticated = Annotated[AuthSubject, Depends(AuthenticatedGuard())]
