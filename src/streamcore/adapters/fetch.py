"""Fetching a URL a user gave us without letting it reach our own network (SSRF).

Every hop (the URL and each redirect, followed here rather than by httpx) is resolved
once; all its addresses must be public, and the connection then goes to that checked
address (Host header and TLS SNI keep the name), so a second DNS answer cannot move
it somewhere else (DNS rebinding). Numeric host forms such as `2130706433` or
`0177.0.0.1` are resolved by the system like any name and refused by address.

Errors:
    FetchError
      ├── FetchRefused   the scheme, host, address or redirect chain is not allowed
      ├── FetchTooLarge  the body is (or announces to be) over the size limit
      └── FetchFailed    connection error, timeout or a non-2xx answer
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import unquote

import anyio
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

# Cloud metadata services. Most sit in ranges refused anyway (link-local, shared,
# unique-local); Azure's wire server is a public address and must be named.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "168.63.129.16", "100.100.100.200", "fd00:ec2::254", "192.0.0.192")
)


class FetchError(Exception):
    pass


class FetchRefused(FetchError):
    pass


class FetchTooLarge(FetchError):
    pass


class FetchFailed(FetchError):
    pass


def parse_networks(text: str) -> list[IPNetwork]:
    """A comma-separated CIDR list (empty → none)."""
    return [ipaddress.ip_network(p.strip(), strict=False) for p in text.split(",") if p.strip()]


def refusal_reason(ip: IPAddress, allow: Sequence[IPNetwork] = ()) -> str | None:
    """Why ip must not be contacted, or None when it may."""
    if any(ip.version == net.version and ip in net for net in allow):
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 embedded in IPv6 (mapped, 6to4, Teredo) is judged as the IPv4 address.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return refusal_reason(embedded, allow)
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        (ip.is_loopback, "a loopback address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    )
    return next((reason for hit, reason in checks if hit), None)


async def system_resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchFailed(f"cannot resolve {host!r}") from exc
    out: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in out:
            out.append(ip)
    return out


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    max_redirects: int = 3
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    allow: Sequence[IPNetwork] = field(default_factory=list)


@dataclass(frozen=True)
class Hop:
    url: httpx.URL
    address: IPAddress


async def check_url(url: str | httpx.URL, policy: FetchPolicy, resolve: Resolver) -> Hop:
    """Parse, resolve and judge one URL; the Hop names the address to connect to."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchRefused("not a valid URL") from exc
    if parsed.scheme not in ("http", "https"):
        raise FetchRefused("only http and https URLs can be imported")
    host = parsed.host
    if not host:
        raise FetchRefused("the URL has no host")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addresses = await resolve(host, port)
    if not addresses:
        raise FetchFailed(f"{host!r} has no address")
    for ip in addresses:
        reason = refusal_reason(ip, policy.allow)
        if reason is not None:
            raise FetchRefused(f"{host} resolves to {reason}")
    return Hop(parsed, addresses[0])


def _filename(resp: httpx.Response, url: httpx.URL) -> str:
    disposition = resp.headers.get("content-disposition")
    if disposition:
        msg = Message()
        msg["content-disposition"] = disposition
        name = msg.get_filename()
        if name:
            return name.rsplit("/", 1)[-1][:255]
    last = unquote(url.path.rsplit("/", 1)[-1])
    return re.sub(r"[\x00-\x1f]", "", last)[:255] or "download"


@dataclass
class Fetched:
    url: httpx.URL
    response: httpx.Response
    max_bytes: int

    @property
    def content_type(self) -> str:
        return str(self.response.headers.get("content-type", "application/octet-stream"))[:127]

    @property
    def filename(self) -> str:
        return _filename(self.response, self.url)

    async def chunks(self) -> AsyncIterator[bytes]:
        received = 0
        try:
            async for chunk in self.response.aiter_bytes():
                received += len(chunk)
                if received > self.max_bytes:
                    raise FetchTooLarge(f"the body is over {self.max_bytes} bytes")
                yield chunk
        except httpx.HTTPError as exc:
            raise FetchFailed(f"the download broke off: {type(exc).__name__}") from exc


def _request(client: httpx.AsyncClient, hop: Hop) -> httpx.Request:
    url = hop.url
    # Connect to the address we checked; the name travels in Host and SNI.
    target = url.copy_with(host=str(hop.address))
    host_header = url.netloc.decode("ascii")
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    headers = {"Host": host_header, "Accept-Encoding": "identity", "User-Agent": "streamcore"}
    return client.build_request("GET", target, headers=headers, extensions=extensions)


@asynccontextmanager
async def open_url(
    url: str, policy: FetchPolicy, resolve: Resolver = system_resolve
) -> AsyncIterator[Fetched]:
    """GET url (following up to max_redirects checked redirects); the body is read
    through Fetched.chunks()."""
    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    async with httpx.AsyncClient(
        follow_redirects=False, trust_env=False, timeout=timeout
    ) as client:
        current: str | httpx.URL = url
        for _ in range(policy.max_redirects + 1):
            hop = await check_url(current, policy, resolve)
            try:
                resp = await client.send(_request(client, hop), stream=True)
            except httpx.HTTPError as exc:
                raise FetchFailed(f"cannot fetch {hop.url.host}: {type(exc).__name__}") from exc
            try:
                if resp.is_redirect:
                    location = resp.headers.get("location", "")
                    current = hop.url.join(location)
                    continue
                if not resp.is_success:
                    raise FetchFailed(f"the server answered {resp.status_code}")
                length = resp.headers.get("content-length", "")
                if length.isdigit() and int(length) > policy.max_bytes:
                    raise FetchTooLarge(f"the body is over {policy.max_bytes} bytes")
                yield Fetched(hop.url, resp, policy.max_bytes)
                return
            finally:
                await resp.aclose()
        raise FetchRefused(f"more than {policy.max_redirects} redirects")
