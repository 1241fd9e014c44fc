"""POSTing a webhook to a URL a user gave us, with the SSRF rules of URL import.

The URL is resolved and judged on every attempt (DNS can change between attempts) by
`adapters.fetch.check_url`, and the connection goes to the address that was checked.
Redirects are not followed (a 3xx is a failed attempt); no proxy or credentials from
the environment are used; at most `max_response_bytes` of the answer are read.

Errors:
    FetchRefused   the URL (or what its host resolves to now) is not allowed
    FetchFailed    connection error, or no complete answer within the timeout
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import anyio
import httpx

from streamcore.adapters.fetch import (
    FetchFailed,
    FetchPolicy,
    FetchRefused,
    Resolver,
    check_url,
    system_resolve,
)

__all__ = ["FetchFailed", "FetchRefused", "PostResult", "WebhookClient"]


@dataclass(frozen=True)
class PostResult:
    status_code: int
    body: bytes
    latency_ms: int


class WebhookClient:
    """One HTTP client per process; every request gets its own checked address."""

    def __init__(
        self, policy: FetchPolicy, max_response_bytes: int, resolve: Resolver = system_resolve
    ) -> None:
        self.policy = policy
        self.max_response_bytes = max_response_bytes
        self.resolve = resolve
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,
                timeout=httpx.Timeout(self.policy.read_timeout),
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=32),
            )
        return self._client

    async def check(self, url: str) -> None:
        """Raise FetchRefused unless url may be contacted now."""
        await check_url(url, self.policy, self.resolve)

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> PostResult:
        """POST body; any HTTP answer is a result, whatever its status."""
        started = time.monotonic()
        hop = await check_url(url, self.policy, self.resolve)
        target = hop.url.copy_with(host=str(hop.address))
        extensions = {"sni_hostname": hop.url.host} if hop.url.scheme == "https" else {}
        client = self._http()
        request = client.build_request(
            "POST",
            target,
            content=body,
            headers={
                **headers,
                "Host": hop.url.netloc.decode("ascii"),
                "Content-Type": "application/json",
                "User-Agent": "streamcore-webhooks",
            },
            extensions=extensions,
        )
        try:
            with anyio.fail_after(timeout):
                response = await client.send(request, stream=True)
                try:
                    head = await _read_head(response, self.max_response_bytes)
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise FetchFailed(f"no answer within {timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise FetchFailed(f"cannot reach {hop.url.host}: {type(exc).__name__}") from exc
        latency = int((time.monotonic() - started) * 1000)
        return PostResult(response.status_code, head, latency)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def _read_head(response: httpx.Response, limit: int) -> bytes:
    """The first `limit` bytes of the body; the rest is never read."""
    out = b""
    if limit <= 0:
        return out
    async for chunk in response.aiter_raw():
        out += chunk
        if len(out) >= limit:
            break
    return out[:limit]
