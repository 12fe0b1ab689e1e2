"""Per-client-address limits of the credential endpoints (the counts come from the settings)."""

from __future__ import annotations

from dataclasses import dataclass

from autoclip_api.context import ApiContext
from autoclip_api.core.errors import ServiceUnavailable, TooManyRequests
from autoclip_api.core.ratelimit import LimiterUnavailable


@dataclass(frozen=True, slots=True)
class AddressLimit:
    name: str
    window_seconds: int
    event: str
    detail: str


AUTH_CALLS = AddressLimit("auth-ip", 60, "ip_rate_limited", "Too many authentication requests")
SIGN_UPS = AddressLimit(
    "register-ip",
    3600,
    "register_rate_limited",
    "Too many sign-ups from your address; try again later",
)


def limit_address(api: ApiContext, rule: AddressLimit, client_ip: str, limit: int) -> None:
    """429 past ``limit`` calls from the address in the rule's window; without its store it
    fails closed (503)."""
    try:
        hit = api.limiter.hit(
            f"{rule.name}:{client_ip}", limit=limit, window_seconds=rule.window_seconds
        )
    except LimiterUnavailable:
        raise ServiceUnavailable("Sign-in is temporarily unavailable") from None
    if not hit.allowed:
        api.metrics.auth_events.labels(rule.event).inc()
        raise TooManyRequests(hit.reset_after, rule.detail)


def limit_auth_calls(api: ApiContext, client_ip: str) -> None:
    """The per-address limit of every credential endpoint."""
    limit_address(api, AUTH_CALLS, client_ip, api.settings.auth_rate_limit_per_minute)
