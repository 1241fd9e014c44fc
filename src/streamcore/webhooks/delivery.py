"""Attempts of webhook deliveries, in the worker.

A claim writes the answers of finished attempts and takes due deliveries, in one
transaction: per endpoint at most
`max_in_flight_per_endpoint` leased at once (endpoint rows locked while counting), each
one's attempt counted and leased for the timeout plus a margin. The request is then
made outside any transaction, each in a task of its own, so a slow receiver holds up
nobody else; its answer is written by the next claim, which it wakes. A worker that dies
mid-request leaves the lease to run out: the delivery is due again and goes out with
the same `webhook-id` (at least once).

Retry schedule (settings.webhooks.retry_schedule_seconds, each delay +-20 % jitter):
attempt 1 at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h and 14 h: 9
attempts over about 41.6 hours. 2xx succeeds; 410 Gone fails the delivery and disables
the endpoint; anything else (other statuses, timeouts after 10 s, refused addresses)
is retried until the schedule ends, then the delivery is `failed`. An endpoint with no
success for `disable_after_seconds` (5 days) while failing is disabled, and the
project's other endpoints get `webhook.endpoint_disabled`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.adapters.fetch import FetchFailed, FetchRefused
from streamcore.adapters.webhook_http import PostResult
from streamcore.config import WebhookSettings
from streamcore.db.base import utcnow
from streamcore.infra import Infra
from streamcore.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from streamcore.webhooks import service, signing
from streamcore.webhooks.repository import DeliveryRepository, EndpointRepository

log = structlog.get_logger(__name__)

CLAIM_ENDPOINTS = 200


@dataclass(frozen=True)
class Attempt:
    delivery_id: str
    number: int
    url: str
    secrets: list[str]
    message_id: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    latency_ms: int
    response: str | None = None

    @property
    def success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_delay(settings: WebhookSettings, attempts: int) -> float | None:
    """Seconds until the next attempt after `attempts` failed ones; None: no more."""
    schedule = settings.retry_schedule_seconds
    if attempts > len(schedule):
        return None
    jitter = settings.retry_jitter
    return schedule[attempts - 1] * random.uniform(1 - jitter, 1 + jitter)


class Dispatcher:
    def __init__(self, infra: Infra) -> None:
        self.infra = infra
        self.settings = infra.settings.webhooks
        self.tasks: set[asyncio.Task[None]] = set()
        self.wake = asyncio.Event()
        # Answers not yet written: the next claim writes them in its own transaction
        # (one transaction a round, not one per attempt). Lost with the process, they
        # only mean the delivery goes out again when its lease runs out.
        self.outcomes: list[tuple[Attempt, Outcome]] = []

    async def run(self, stop: asyncio.Event) -> None:
        last_sweep = -float("inf")
        try:
            while not stop.is_set():
                try:
                    for attempt in await self.claim():
                        task = asyncio.create_task(self.attempt(attempt))
                        self.tasks.add(task)
                        task.add_done_callback(self.tasks.discard)
                    if time.monotonic() - last_sweep >= self.settings.sweep_interval_seconds:
                        await self.sweep()
                        last_sweep = time.monotonic()
                except Exception:
                    log.exception("webhooks.dispatch_failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.settings.poll_interval_seconds)
                self.wake.clear()
        finally:
            # Unfinished attempts keep their lease and go out again once it runs out.
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)

    async def claim(self) -> list[Attempt]:
        """Write the answers that came in, then lease what is due, in one transaction."""
        done, self.outcomes = self.outcomes, []
        try:
            async with self.infra.transaction() as session:
                return await self._round(session, done)
        except BaseException:
            self.outcomes[:0] = done
            raise

    async def _round(
        self, session: AsyncSession, done: list[tuple[Attempt, Outcome]]
    ) -> list[Attempt]:
        now = utcnow()
        deliveries = DeliveryRepository(session)
        settling = await deliveries.many([a.delivery_id for a, _ in done])
        due = await deliveries.due_endpoints(now, CLAIM_ENDPOINTS)
        wanted = set(due) | {d.endpoint_id for d in settling.values()}
        if not wanted:
            return []
        endpoints = {e.id: e for e in await EndpointRepository(session).lock(list(wanted))}
        for attempt, outcome in done:
            delivery = settling.get(attempt.delivery_id)
            if (
                delivery is None
                or delivery.status is not DeliveryStatus.pending
                or delivery.attempts != attempt.number
            ):
                continue  # deleted, or retried by hand meanwhile: that attempt counts
            await self._apply(session, delivery, endpoints.get(delivery.endpoint_id), outcome)
        await session.flush()  # the claim counts leases as now written
        return await self._claim(session, [endpoints[e] for e in due if e in endpoints], now)

    async def _claim(
        self, session: AsyncSession, endpoints: list[WebhookEndpoint], now: datetime
    ) -> list[Attempt]:
        lease = now + timedelta(
            seconds=self.settings.timeout_seconds + self.settings.lease_margin_seconds
        )
        deliveries = DeliveryRepository(session)
        busy = await deliveries.in_flight([e.id for e in endpoints], now)
        out: list[Attempt] = []
        for endpoint in endpoints:
            room = self.settings.max_in_flight_per_endpoint - busy.get(endpoint.id, 0)
            if not endpoint.enabled or room <= 0:
                continue
            for delivery in await deliveries.due_of(endpoint.id, now, room):
                out.append(self._lease(delivery, endpoint, now, lease))
        return out

    def _lease(
        self, delivery: WebhookDelivery, endpoint: WebhookEndpoint, now: datetime, until: datetime
    ) -> Attempt:
        delivery.attempts += 1
        delivery.leased_until = until
        delivery.last_attempt_at = now
        if delivery.first_attempt_at is None:
            delivery.first_attempt_at = now
            delay = (now - delivery.occurred_at).total_seconds()
            self.infra.metrics.webhook_first_attempt_delay.observe(max(delay, 0.0))
        return Attempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            url=endpoint.url,
            secrets=service.signing_secrets(endpoint, now),
            message_id=delivery.message_id,
            body=json.dumps(delivery.payload, separators=(",", ":")).encode(),
        )

    async def attempt(self, attempt: Attempt) -> None:
        """Send; the answer is written by the next claim (woken now)."""
        outcome = await self.send(attempt)
        self.outcomes.append((attempt, outcome))
        self.wake.set()

    async def send(self, attempt: Attempt) -> Outcome:
        started = time.monotonic()
        headers = signing.headers(
            attempt.secrets, attempt.message_id, int(time.time()), attempt.body
        )
        try:
            result: PostResult = await self.infra.webhooks.post(
                attempt.url, attempt.body, headers, self.settings.timeout_seconds
            )
        except FetchRefused as exc:
            return Outcome(None, f"refused: {exc}"[:500], _ms(started))
        except FetchFailed as exc:
            return Outcome(None, str(exc)[:500], _ms(started))
        text = result.body.decode("utf-8", errors="replace")
        return Outcome(result.status_code, None, result.latency_ms, text)

    async def _apply(
        self,
        session: AsyncSession,
        delivery: WebhookDelivery,
        endpoint: WebhookEndpoint | None,
        outcome: Outcome,
    ) -> None:
        now = utcnow()
        delivery.leased_until = None
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        delivery.last_latency_ms = outcome.latency_ms
        delivery.last_response = outcome.response
        metrics = self.infra.metrics
        if outcome.success:
            _finish(delivery, DeliveryStatus.succeeded, now)
            metrics.webhook_deliveries.labels(outcome="succeeded").inc()
            if endpoint is not None:
                endpoint.failing_since = None
            return
        gone = outcome.status_code == 410
        delay = None if gone else retry_delay(self.settings, delivery.attempts)
        if delay is None:
            _finish(delivery, DeliveryStatus.failed, now)
            metrics.webhook_deliveries.labels(outcome="failed").inc()
        else:
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            metrics.webhook_deliveries.labels(outcome="retrying").inc()
        if endpoint is None or not endpoint.enabled:
            return
        endpoint.failing_since = endpoint.failing_since or now
        failing_for = (now - endpoint.failing_since).total_seconds()
        if gone:
            await self._disable(session, endpoint, "gone")
        elif failing_for >= self.settings.disable_after_seconds:
            await self._disable(session, endpoint, "failing")

    async def _disable(self, session: AsyncSession, endpoint: WebhookEndpoint, reason: str) -> None:
        endpoint.enabled = False
        endpoint.disabled_reason = reason
        sent = await service.notify_disabled(session, endpoint, reason)
        self.infra.metrics.webhook_endpoints_disabled.labels(reason=reason).inc()
        log.warning("webhooks.endpoint_disabled", endpoint_id=endpoint.id, reason=reason, told=sent)

    async def sweep(self) -> int:
        before = utcnow() - timedelta(seconds=self.settings.retention_seconds)
        async with self.infra.transaction() as session:
            return await DeliveryRepository(session).sweep(before)


def _finish(delivery: WebhookDelivery, status: DeliveryStatus, now: datetime) -> None:
    delivery.status = status
    delivery.finished_at = now
    delivery.next_attempt_at = None


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
