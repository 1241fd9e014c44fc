"""Who the client is: the connection's peer address, or, only when that peer is one of
the configured trusted proxies (`http.trusted_proxies`, empty by default), the address
the proxies recorded in `X-Forwarded-For`.

The header is read from the right: each trusted proxy appends the address it saw, so
the first address from the right that is not a trusted proxy is the client. Anything
left of it was written by the client and proves nothing. Rate limits and logs both
take the address from here (ClientAddressMiddleware puts it in the ASGI scope)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(value: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs or addresses; ValueError for anything else."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in value.split(",")
        if part.strip()
    )


def _address(text: str) -> Address | None:
    text = text.strip().strip('"')
    if text.startswith("["):  # [v6]:port
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: Address | None, networks: tuple[Network, ...]) -> bool:
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in net for net in networks)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: tuple[Network, ...]
) -> str | None:
    """The client's address as a string (None when the server gives no peer)."""
    if peer is None or not _trusted(_address(peer), trusted):
        return peer
    current = peer
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # Not an address: nothing further left can be believed either.
            return current
        current = str(address)
        if not _trusted(address, trusted):
            return current
    return current


class ClientAddressMiddleware:
    """Sets scope["client"] to the client's address (see the module docstring) for
    every HTTP and WebSocket request, before anything reads it."""

    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted:
            peer = scope.get("client")
            forwarded = [
                value.decode("latin-1")
                for name, value in scope.get("headers", ())
                if name == b"x-forwarded-for"
            ]
            host = client_address(peer[0] if peer else None, forwarded, self.trusted)
            if host is not None and peer is not None and host != peer[0]:
                scope = {**scope, "client": (host, 0)}
        await self.app(scope, receive, send)
