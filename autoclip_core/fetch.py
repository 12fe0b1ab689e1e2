"""The guarded HTTP fetcher every outside URL goes through (feeds, articles, APIs, media).

Guards, in the order a request meets them:

- only ``http``/``https`` URLs (also after every redirect);
- the address is checked **at connect time**: the connection is opened by our own
  network backend, which resolves the host once, refuses it if *any* resolved address is
  loopback, private, link-local (cloud metadata), multicast, reserved, unspecified or an
  IPv6 form of those (IPv4-mapped, NAT64, 6to4, Teredo), and then connects to exactly the
  address it checked — so DNS rebinding between a check and the connect cannot slip
  through. TLS still uses the URL's host name for SNI and certificate checks, and the
  ``Host`` header is the URL's. IPv4 literals in decimal, hex or octal spelling
  (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``) are read as the address
  they name;
- redirects are followed by hand (at most ``MAX_REDIRECTS``), each hop through the same
  guard; caller headers such as ``Authorization`` are dropped on a cross-origin hop;
- bodies are capped in size *after* decompression (gzip/deflate are decoded here, with a
  bounded output, so a compression bomb stops at the cap) and in total time.

``AUTOCLIP_FETCH_ALLOW_HOSTS`` (comma-separated host names or CIDRs) is the only way
around the address guard — for local development and tests. Proxies from the
environment are ignored on purpose (a proxy would connect for us, unguarded).
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import os
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

logger = logging.getLogger("autoclip_core.fetch")

USER_AGENT = "AutoClip/0.1 (+https://github.com/autoclip)"
MAX_REDIRECTS = 5
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# Headers that survive a redirect to another origin; everything else the caller set
# (Authorization, API-key headers, cookies) is dropped there.
CROSS_ORIGIN_SAFE_HEADERS = frozenset({"accept", "accept-language", "user-agent"})


class FetchError(RuntimeError):
    """A fetch that failed; ``retryable`` says whether trying later may help."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.reason = reason or message
        """What may be shown to whoever configured the URL (a source's health): never what
        our DNS answered, which the message (for the operator's log) may hold."""


class FetchRefusedError(FetchError):
    """The URL points somewhere we never fetch from (SSRF guard)."""


ADDRESS_NOT_ALLOWED = "address not allowed"
COULD_NOT_RESOLVE = "could not resolve"


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_SPELLING = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$")


# address policy ---------------------------------------------------------------------------


def _allowlist() -> tuple[set[str], list[Network]]:
    hosts: set[str] = set()
    nets: list[Network] = []
    for raw in os.environ.get("AUTOCLIP_FETCH_ALLOW_HOSTS", "").split(","):
        entry = raw.strip().lower().rstrip(".")
        if not entry:
            continue
        try:
            nets.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            hosts.add(entry)
    return hosts, nets


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address reaches through a translation mechanism, if any."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _NAT64 or addr in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]
    return None


def _is_public(addr: IPAddress) -> bool:
    if isinstance(addr, ipaddress.IPv6Address):
        inner = _embedded_ipv4(addr)
        if inner is not None and not _is_public(inner):
            return False
        if addr.ipv4_mapped is not None:
            return True  # the mapped IPv4 address was public
    return not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or not addr.is_global
    )


def ip_literal(host: str) -> IPAddress | None:
    """The address a host names literally (any IPv4 spelling, or IPv6), else None."""
    host = host.strip("[]").lower().rstrip(".")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _IPV4_SPELLING.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (tests replace this to simulate DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[IPAddress] = []
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if addr not in seen:
            seen.append(addr)
    return seen


def checked_addresses(host: str, port: int) -> list[IPAddress]:
    """Resolve ``host`` once and return its addresses if every one may be connected to.

    Raises FetchRefusedError when any address is non-public (and not allowlisted), and a
    retryable FetchError when the name does not resolve.
    """
    name = host.strip("[]").lower().rstrip(".")
    if not name:
        raise FetchRefusedError("refused: no host")
    hosts, nets = _allowlist()
    literal = ip_literal(name)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = _resolve(name, port)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(
                f"cannot resolve {name!r}: {exc}",
                retryable=True,
                reason=f"{COULD_NOT_RESOLVE}: {name}",
            ) from exc
    if name in hosts:
        return addresses
    for addr in addresses:
        if any(addr.version == net.version and addr in net for net in nets):
            continue
        if not _is_public(addr):
            # The operator's log says where the name led; the refusal's reason does not.
            logger.warning("fetch refused host=%s address=%s (not public)", name, addr)
            raise FetchRefusedError(
                f"{name} resolves to non-public address {addr} "
                "(add it to AUTOCLIP_FETCH_ALLOW_HOSTS to allow)",
                reason=f"{ADDRESS_NOT_ALLOWED}: {name}",
            )
    return addresses


def _check_scheme(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed "[" of an IPv6 literal
        raise FetchRefusedError(f"refused {url!r}: not a URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchRefusedError(f"refused {url!r}: only http and https URLs are fetched")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise FetchRefusedError(f"refused {url!r}: invalid port") from exc
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchRefusedError(f"refused {url!r}: no host")
    return scheme, host, port


def check_url(url: str) -> None:
    """Raise FetchRefusedError unless ``url`` is http(s) to a public address (or allowlisted).

    A pre-flight check (e.g. for configuration); ``fetch`` checks again at connect time.
    """
    _, host, port = _check_scheme(url)
    try:
        checked_addresses(host, port)
    except FetchRefusedError as exc:
        raise FetchRefusedError(f"refused {url!r}: {exc}", reason=exc.reason) from None


# transport: connect only to checked addresses ---------------------------------------------


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves, checks, and connects to the checked address (no second resolution)."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[tuple[int, int, int | bytes]] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for addr in checked_addresses(host, port):
            try:
                return super().connect_tcp(
                    str(addr), port, timeout, local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=4,
            max_keepalive_connections=0,
            network_backend=_GuardedBackend(),
        )


_ssl_lock = threading.Lock()
_default_ssl: ssl.SSLContext | None = None


def _default_ssl_context() -> ssl.SSLContext:
    global _default_ssl
    with _ssl_lock:
        if _default_ssl is None:
            _default_ssl = httpx.create_ssl_context()
        return _default_ssl


# the fetch --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    url: str = field(metadata={"doc": "Final URL, after redirects."})
    status: int
    body: bytes
    headers: Mapping[str, str]

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        match = re.search(r"charset=[\"']?([\w.:-]+)", self.headers.get("content-type", ""), re.I)
        return match.group(1).lower() if match else None


class _Decoder:
    """Content-Encoding decoder with a hard cap on the decoded size."""

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        self.limit = limit
        self.url = url
        self.size = 0
        self.encoding = encoding
        if encoding in ("", "identity"):
            self._z = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(31)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(15)
        else:
            raise FetchError(f"GET {url}: unsupported Content-Encoding {encoding!r}")
        self._raw_deflate_checked = encoding != "deflate"

    def _account(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            raise FetchError(f"GET {self.url}: body exceeds {self.limit} bytes")
        return data

    def feed(self, chunk: bytes) -> bytes:
        if self._z is None:
            return self._account(chunk)
        if not self._raw_deflate_checked:
            self._raw_deflate_checked = True
            if chunk and (chunk[0] & 0x0F) != 8:  # not a zlib header: raw deflate
                self._z = zlib.decompressobj(-15)
        out = bytearray()
        data = chunk
        try:
            while data:
                piece = self._z.decompress(data, self.limit - self.size + 1)
                out += self._account(piece)
                data = self._z.unconsumed_tail
                if self._z.eof and self._z.unused_data and self.encoding != "deflate":
                    data = self._z.unused_data  # another gzip member
                    self._z = zlib.decompressobj(31)
        except zlib.error as exc:
            raise FetchError(f"GET {self.url}: corrupt {self.encoding} body ({exc})") from exc
        return bytes(out)

    def flush(self) -> bytes:
        if self._z is None:
            return b""
        return self._account(self._z.flush())


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def fetch(
    url: str,
    *,
    max_bytes: int,
    timeout_s: float = 20.0,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    verify: ssl.SSLContext | None = None,
) -> FetchResult:
    """One guarded request, redirects followed; a 304 is a result, other 4xx/5xx raise.

    ``etag``/``last_modified`` make it a conditional GET. The whole exchange, redirects
    included, must finish within ``timeout_s``; the decoded body is at most ``max_bytes``.
    """
    deadline = time.monotonic() + timeout_s
    request_headers: dict[str, str] = {
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "gzip, deflate",
        **(headers or {}),
    }
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified
    per_read = min(timeout_s, 10.0)
    timeout = httpx.Timeout(per_read, connect=min(10.0, timeout_s))
    transport = _GuardedTransport(verify or _default_ssl_context())
    with httpx.Client(
        transport=transport, follow_redirects=False, timeout=timeout, trust_env=False
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            _check_scheme(url)
            if time.monotonic() > deadline:
                raise FetchError(f"{method} {url}: slower than {timeout_s:g} s", retryable=True)
            try:
                request = client.build_request(
                    method, url, headers=request_headers, content=content
                )
                response = client.send(request, stream=True)
            except FetchRefusedError as exc:
                raise FetchRefusedError(f"refused {url!r}: {exc}", reason=exc.reason) from None
            except httpx.TimeoutException as exc:
                raise FetchError(f"{method} {url}: timed out", retryable=True) from exc
            except httpx.TransportError as exc:
                raise FetchError(f"{method} {url}: {exc}", retryable=True) from exc
            try:
                if response.status_code in (301, 302, 303, 307, 308):
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(f"{method} {url}: redirect without a Location")
                    target = urljoin(url, location)
                    if _origin(target) != _origin(url):
                        request_headers = {
                            k: v
                            for k, v in request_headers.items()
                            if k.lower() in CROSS_ORIGIN_SAFE_HEADERS
                        }
                    if response.status_code == 303 or (
                        response.status_code in (301, 302) and method == "POST"
                    ):
                        method, content = "GET", None
                    url = target
                    continue
                if response.status_code == 304:
                    return FetchResult(url, 304, b"", dict(response.headers))
                if response.status_code >= 400:
                    raise FetchError(
                        f"{method} {url} → HTTP {response.status_code}",
                        retryable=response.status_code in RETRYABLE_STATUS,
                        status=response.status_code,
                        retry_after=_retry_after(response.headers.get("retry-after")),
                    )
                body = _read_body(response, url, max_bytes, deadline, timeout_s)
                return FetchResult(url, response.status_code, body, dict(response.headers))
            except httpx.TimeoutException as exc:
                raise FetchError(f"{method} {url}: timed out", retryable=True) from exc
            except httpx.TransportError as exc:
                raise FetchError(f"{method} {url}: {exc}", retryable=True) from exc
            finally:
                response.close()
        raise FetchError(f"{method} {url}: more than {MAX_REDIRECTS} redirects")


def _read_body(
    response: httpx.Response, url: str, max_bytes: int, deadline: float, timeout_s: float
) -> bytes:
    encoding = response.headers.get("content-encoding", "").strip().lower()
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes and encoding in ("", "identity"):
        raise FetchError(f"GET {url}: body of {declared} bytes exceeds {max_bytes}")
    decoder = _Decoder(encoding, max_bytes, url)
    chunks: list[bytes] = []
    raw = 0
    for chunk in response.iter_raw():
        raw += len(chunk)
        if raw > max_bytes:
            raise FetchError(f"GET {url}: body exceeds {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FetchError(f"GET {url}: slower than {timeout_s:g} s", retryable=True)
        chunks.append(decoder.feed(chunk))
    chunks.append(decoder.flush())
    return b"".join(chunks)


def fetch_bytes(url: str, *, max_bytes: int, timeout_s: float = 20.0) -> bytes:
    """GET ``url`` following redirects safely; at most ``max_bytes`` within ``timeout_s``."""
    return fetch(url, max_bytes=max_bytes, timeout_s=timeout_s).body
