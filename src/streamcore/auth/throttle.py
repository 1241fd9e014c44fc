"""Login throttling that cannot be turned against someone else (OWASP Authentication
Cheat Sheet: limits keyed by account and address, slowing rather than locking).

- per client address, whatever the account: refused (429) past `login_ip_limit`;
- per account from one address: refused past `login_pair_limit`, cleared by a good
  login, so a guesser locks out only themselves;
- per account from every address: never refused (that would let anyone lock a user
  out); past `login_account_limit` each attempt is delayed, doubling up to a cap,
  which makes distributed guessing slow and costs the real user a few seconds at most.

The client address is the trusted-proxy-aware one (inputs.proxies), so a rotated
X-Forwarded-For from an untrusted connection changes nothing."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

import structlog

from streamcore.adapters.ratelimit import RateLimiterUnavailable
from streamcore.errors import ServiceUnavailable, TooManyRequests
from streamcore.infra import Infra

log = structlog.get_logger(__name__)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def slowdown_seconds(attempts: int, limit: int, base: float, cap: float) -> float:
    """The wait before attempt number `attempts` on an account: none up to the limit,
    then base, 2*base, 4*base ... never more than cap."""
    over = attempts - limit
    if over <= 0 or base <= 0:
        return 0.0
    return float(min(cap, base * 2 ** min(over - 1, 30)))


async def limit(infra: Infra, key: str, count: int, window: int, what: str) -> int:
    """Count one hit on key; TooManyRequests past count. Returns the hits so far."""
    try:
        decision = await infra.ratelimiter.hit(key, count, window)
    except RateLimiterUnavailable as exc:
        # Fail closed: without counters nothing slows password guessing.
        log.error("auth.ratelimit_unavailable", error=str(exc))
        raise ServiceUnavailable("rate limiter unavailable") from exc
    if not decision.allowed:
        raise TooManyRequests(f"too many {what}; retry later", retry_after=decision.retry_after)
    return decision.count


@dataclass(frozen=True)
class LoginAttempt:
    pair_key: str
    account_key: str


def account_key(email: str) -> str:
    return f"login:account:{_digest(email)}"


def pair_key(email: str, client_ip: str | None) -> str:
    address = client_ip or "unknown"
    return f"login:pair:{_digest(f'{email} {address}')}"


async def address_allowed(infra: Infra, client_ip: str | None, what: str) -> None:
    cfg = infra.settings.auth
    await limit(
        infra,
        f"login:ip:{client_ip or 'unknown'}",
        cfg.login_ip_limit,
        cfg.login_ip_window_seconds,
        what,
    )


async def before_password_check(infra: Infra, email: str, client_ip: str | None) -> LoginAttempt:
    """Count the attempt for its account and address (refusing past the pair limit)
    and wait out the account's slowdown."""
    cfg = infra.settings.auth
    attempt = LoginAttempt(pair_key(email, client_ip), account_key(email))
    await limit(
        infra,
        attempt.pair_key,
        cfg.login_pair_limit,
        cfg.login_pair_window_seconds,
        "login attempts for this account from this address",
    )
    try:
        decision = await infra.ratelimiter.hit(
            attempt.account_key, 2**31, cfg.login_account_window_seconds
        )
    except RateLimiterUnavailable as exc:
        log.error("auth.ratelimit_unavailable", error=str(exc))
        raise ServiceUnavailable("rate limiter unavailable") from exc
    wait = slowdown_seconds(
        decision.count,
        cfg.login_account_limit,
        cfg.login_slowdown_base_seconds,
        cfg.login_slowdown_max_seconds,
    )
    if wait:
        log.info("auth.login_slowed", seconds=wait, attempts=decision.count)
        await asyncio.sleep(wait)
    return attempt


async def succeeded(infra: Infra, attempt: LoginAttempt) -> None:
    """A good password clears its account's counters."""
    for key in (attempt.pair_key, attempt.account_key):
        try:
            await infra.ratelimiter.reset(key)
        except RateLimiterUnavailable:
            log.warning("auth.ratelimit_reset_failed")
