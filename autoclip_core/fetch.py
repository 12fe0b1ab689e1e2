"""The guarded HTTP fetcher every outside URL goes through (feeds, media).

Only http/https; the resolved address is checked before connecting and on every
redirect: loopback, private, link-local (cloud metadata), multicast, reserved and
unspecified addresses are refused unless the host/CIDR is in
``AUTOCLIP_FETCH_ALLOW_HOSTS``. Bodies are capped in size and time.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from urllib.parse import urljoin, urlsplit

import httpx

USER_AGENT = "AutoClip/0.1 (+https://github.com/autoclip)"
MAX_REDIRECTS = 5


class FetchError(RuntimeError):
    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class FetchRefusedError(FetchError):
    """The URL points somewhere we never fetch from (SSRF guard)."""


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _allowlist() -> tuple[set[str], list[Network]]:
    hosts: set[str] = set()
    nets: list[Network] = []
    for raw in os.environ.get("AUTOCLIP_FETCH_ALLOW_HOSTS", "").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            hosts.add(entry)
    return hosts, nets


def _is_public(addr: IPAddress) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or not addr.is_global
    )


def check_url(url: str) -> None:
    """Raise FetchRefusedError unless ``url`` is http(s) to a public address (or allowlisted)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchRefusedError(f"refused {url!r}: only http and https URLs are fetched")
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchRefusedError(f"refused {url!r}: no host")
    hosts, nets = _allowlist()
    if host in hosts:
        return
    try:
        infos = socket.getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host!r}: {exc}", retryable=True) from exc
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if any(addr in net for net in nets):
            continue
        if not _is_public(addr):
            raise FetchRefusedError(
                f"refused {url!r}: {host} resolves to non-public address {addr} "
                "(add it to AUTOCLIP_FETCH_ALLOW_HOSTS to allow)"
            )


def fetch_bytes(url: str, *, max_bytes: int, timeout_s: float = 20.0) -> bytes:
    """GET ``url`` following redirects safely; at most ``max_bytes`` within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    timeout = httpx.Timeout(timeout_s, connect=min(10.0, timeout_s))
    with httpx.Client(
        follow_redirects=False, timeout=timeout, headers={"User-Agent": USER_AGENT}
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url)
            try:
                with client.stream("GET", url) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code >= 400:
                        raise FetchError(
                            f"GET {url} → HTTP {response.status_code}",
                            retryable=response.status_code in (429, 500, 502, 503, 504),
                        )
                    declared = int(response.headers.get("content-length") or 0)
                    if declared > max_bytes:
                        raise FetchError(f"GET {url}: body of {declared} bytes exceeds {max_bytes}")
                    chunks: list[bytes] = []
                    total = 0
                    for chunk in response.iter_bytes():
                        total += len(chunk)
                        if total > max_bytes:
                            raise FetchError(f"GET {url}: body exceeds {max_bytes} bytes")
                        if time.monotonic() > deadline:
                            raise FetchError(
                                f"GET {url}: slower than {timeout_s} s", retryable=True
                            )
                        chunks.append(chunk)
                    return b"".join(chunks)
            except httpx.TimeoutException as exc:
                raise FetchError(f"GET {url}: timed out", retryable=True) from exc
            except httpx.TransportError as exc:
                raise FetchError(f"GET {url}: {exc}", retryable=True) from exc
        raise FetchError(f"GET {url}: more than {MAX_REDIRECTS} redirects")
