"""The SSRF guard of URL import: address policy, and that the connection goes to the
address that was checked, whatever DNS says next."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest

from streamcore.adapters.fetch import (
    FetchPolicy,
    FetchRefused,
    IPAddress,
    check_url,
    open_url,
    parse_networks,
    refusal_reason,
    system_resolve,
)
from tests.fixtures.origin import Origin, origin_server


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("8.8.8.8", False),
        ("2606:4700::1111", False),
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("0.0.0.0", True),
        ("::", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("100.64.0.1", True),
        ("169.254.169.254", True),
        ("168.63.129.16", True),  # Azure wire server: public, but metadata
        ("fd00:ec2::254", True),
        ("fe80::1", True),
        ("224.0.0.1", True),
        ("ff02::1", True),
        ("240.0.0.1", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:8.8.8.8", False),
        ("2002:7f00:1::", True),  # 6to4 around 127.0.0.1
    ],
)
def test_refusal_reason(address: str, refused: bool) -> None:
    assert (refusal_reason(ipaddress.ip_address(address)) is not None) is refused


def test_allowlist_admits_only_its_networks() -> None:
    allow = parse_networks("127.0.0.2/32, 10.9.0.0/16")
    assert refusal_reason(ipaddress.ip_address("127.0.0.2"), allow) is None
    assert refusal_reason(ipaddress.ip_address("10.9.3.4"), allow) is None
    assert refusal_reason(ipaddress.ip_address("127.0.0.1"), allow) is not None
    assert parse_networks("") == []


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f000001", "0x7f.1", "127.1", "017700000001", "localhost"]
)
async def test_numeric_spellings_of_loopback_are_refused(host: str) -> None:
    with pytest.raises(FetchRefused):
        await check_url(f"http://{host}:8080/x", FetchPolicy(max_bytes=1), system_resolve)


@pytest.fixture
def origins() -> Iterator[tuple[Origin, Origin]]:
    with origin_server("127.0.0.2") as allowed, origin_server("127.0.0.1") as forbidden:
        yield allowed, forbidden


async def test_dns_rebinding_cannot_move_the_connection(origins: tuple[Origin, Origin]) -> None:
    allowed, forbidden = origins
    allowed.file("/clip.mp4", b"media bytes")
    forbidden.file("/clip.mp4", b"secret")
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[IPAddress]:
        # First answer passes the check; any later answer points at loopback.
        calls.append(host)
        first = len(calls) == 1
        return [ipaddress.ip_address("127.0.0.2" if first else "127.0.0.1")]

    policy = FetchPolicy(max_bytes=1000, allow=parse_networks("127.0.0.2/32"))
    url = f"http://media.example:{allowed.port}/clip.mp4"
    async with open_url(url, policy, rebinding) as fetched:
        body = b"".join([c async for c in fetched.chunks()])
    assert body == b"media bytes"
    assert calls == ["media.example"]
    assert allowed.requests == [("/clip.mp4", f"media.example:{allowed.port}")]
    assert forbidden.requests == []
