"""Login latency against its floor: `POST /auth/login` through the whole app (in process,
lifespan run, real database) versus a bare argon2id verify with the same parameters.

    .venv/bin/python -m bench.login_latency [--n 50] [--database-url postgresql+asyncpg://...]

Prints p50/p90 of both and their ratio: the ratio is what HTTP, the database, the rate
limiter and issuing tokens add on top of the password hash, which dominates by design.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from argon2 import PasswordHasher, Type

from streamcore.app import create_app
from streamcore.auth import service as auth
from streamcore.config import Settings

EMAIL, PASSWORD = "bench@example.com", "bench password 123"


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def raw_verify_ms(settings: Settings, n: int) -> list[float]:
    cfg = settings.auth
    hasher = PasswordHasher(
        time_cost=cfg.argon2_time_cost,
        memory_cost=cfg.argon2_memory_kib,
        parallelism=cfg.argon2_parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )
    stored = hasher.hash(PASSWORD)
    out = []
    for _ in range(n):
        started = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        out.append((time.perf_counter() - started) * 1000)
    return out


async def login_ms(settings: Settings, n: int) -> list[float]:
    app = create_app(settings, run_worker=False)
    async with app.router.lifespan_context(app):
        infra = app.state.infra
        async with infra.transaction() as session:
            await auth.ensure_user(session, infra, EMAIL, PASSWORD)
        transport = httpx.ASGITransport(app=app)
        out = []
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for _ in range(n + 3):
                started = time.perf_counter()
                resp = await client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD})
                out.append((time.perf_counter() - started) * 1000)
                resp.raise_for_status()
        return out[3:]  # the first requests warm caches and the connection pool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=Path(tmp),
            log_level="WARNING",
            database={"url": args.database_url},  # type: ignore[arg-type]
            auth={"login_ip_limit": 10**6, "login_account_limit": 10**6},  # type: ignore[arg-type]
        )
        cfg = settings.auth
        raw = raw_verify_ms(settings, args.n)
        login = asyncio.run(login_ms(settings, args.n))
    backend = "postgresql" if args.database_url else "sqlite"
    print(
        f"argon2id m={cfg.argon2_memory_kib} KiB t={cfg.argon2_time_cost} "
        f"p={cfg.argon2_parallelism}; {args.n} samples; database {backend}"
    )
    for name, samples in (("raw argon2 verify", raw), ("POST /auth/login", login)):
        print(
            f"{name:<18} p50 {statistics.median(samples):7.1f} ms   "
            f"p90 {percentile(samples, 90):7.1f} ms"
        )
    print(f"ratio login/verify p50: {statistics.median(login) / statistics.median(raw):.2f}x")


if __name__ == "__main__":
    main()
