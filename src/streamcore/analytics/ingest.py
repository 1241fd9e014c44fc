"""Player beacons in: a batch is checked whole (token, size, types, clocks) and refused
with a reason, or accepted into an in-memory buffer; nothing is written per request.

A background task flushes the buffer every `flush_seconds` (or at `flush_events`) to a
sink: embedded mode writes one multi-row INSERT (raw events plus their views marked
pending for the rollup); Kafka mode produces each accepted batch as one record on the
analytics topic, which the workers' consumer writes the same way. A full buffer (a sink
down or slower than the players) drops new batches and counts them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from pydantic import ValidationError

from streamcore.adapters.bus.base import Broker, Outgoing
from streamcore.adapters.ratelimit import RateLimiterUnavailable
from streamcore.analytics import repository
from streamcore.analytics.flusher import PeriodicFlusher
from streamcore.analytics.metrics import EVENT_TYPES
from streamcore.analytics.schemas import BeaconBatch
from streamcore.errors import BadRequest, PayloadTooLarge, TooManyRequests
from streamcore.infra import Infra
from streamcore.security.stream_tokens import InvalidToken
from streamcore.videos import layout

log = structlog.get_logger(__name__)

RECORD_VERSION = 1


class Refused(BadRequest):
    """A batch refused whole; `reason` is the metric label, the detail says more."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason

    @property
    def name(self) -> str:
        return "BadRequest"


@dataclass(frozen=True)
class Accepted:
    """A checked batch: the rows to store, all of one video."""

    video_id: str
    token_key: str
    rows: list[dict[str, Any]]


def viewer_key(secret: str) -> bytes:
    return hashlib.sha256(b"streamcore analytics viewer\x00" + secret.encode()).digest()


def viewer_hash(key: bytes, viewer_id: str) -> int:
    """A signed 63-bit keyed hash: viewers stay countable, never identifiable."""
    digest = hmac.digest(key, viewer_id.encode(), "sha256")
    return int.from_bytes(digest[:8], "big") >> 1


def parse_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused("malformed", "the body is not JSON") from exc
    if not isinstance(body, dict):
        raise Refused("malformed", "the body must be a JSON object")
    return body


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg', 'invalid')}"


class Checker:
    """Turns a request body into an Accepted batch or raises Refused."""

    def __init__(self, infra: Infra) -> None:
        self.infra = infra
        self.cfg = infra.settings.analytics
        self.key = viewer_key(infra.settings.resolved_secret())

    def video_of(self, token: str | None) -> str:
        if not token:
            raise Refused("no_token", "a playback token is required (body or ?token=)")
        name, _, ext = token.partition(".")
        if ext and ext.lower() != "m3u8":
            raise Refused("bad_token", "not a playback token")
        try:
            claim = self.infra.tokens.decode(name)
        except InvalidToken as exc:
            raise Refused("bad_token", "invalid or expired playback token") from exc
        if claim.path != layout.MASTER_PATH:
            raise Refused("bad_token", "not a playback token (the master playlist's)")
        return claim.asset_id

    def check(self, body: dict[str, Any], query_token: str | None) -> Accepted:
        try:
            batch = BeaconBatch.model_validate(body)
        except ValidationError as exc:
            raise Refused("invalid_event", _first_error(exc)) from exc
        token = batch.token or query_token
        video_id = self.video_of(token)
        if batch.video_id is not None and batch.video_id != video_id:
            raise Refused("other_video", "the token is for another video")
        if not batch.events:
            raise Refused("empty", "no events")
        if len(batch.events) > self.cfg.max_events:
            raise Refused("too_many", f"at most {self.cfg.max_events} events per batch")
        now_ms = int(time.time() * 1000)
        skew = self.cfg.max_clock_skew_seconds * 1000
        last: dict[str, int] = {}
        rows = []
        for i, e in enumerate(batch.events):
            if e.type not in EVENT_TYPES:
                raise Refused("unknown_type", f"events.{i}.type: unknown type {e.type[:40]!r}")
            if abs(e.at - now_ms) > skew:
                raise Refused("clock", f"events.{i}.at: too far from the server's clock")
            if e.at < last.get(e.view_id, 0):
                raise Refused("backwards", f"events.{i}.at: time goes backwards in the view")
            last[e.view_id] = e.at
            rows.append(
                {
                    "video_id": video_id,
                    "view_id": e.view_id,
                    "viewer_hash": viewer_hash(self.key, e.viewer_id),
                    "type": e.type,
                    "at": e.at,
                    "player_time": e.player_time,
                    "rendition": e.rendition or "",
                    "bitrate": e.bitrate or 0,
                    "duration_ms": e.duration_ms,
                    "error_code": e.error_code,
                }
            )
        assert token is not None
        self._observe(rows)
        return Accepted(video_id, hashlib.sha256(token.encode()).hexdigest()[:32], rows)

    def _observe(self, rows: list[dict[str, Any]]) -> None:
        """The Prometheus histograms, from what one batch shows: a view_start and its
        first_frame, a rebuffer_start and its end (or an end's duration_ms)."""
        began: dict[str, int] = {}
        stalled: dict[str, int] = {}
        m = self.infra.metrics
        for r in rows:
            kind, view, at = r["type"], r["view_id"], r["at"]
            if kind == "view_start":
                began[view] = at
            elif kind == "first_frame" and view in began:
                m.analytics_startup.observe(max(0, at - began.pop(view)) / 1000)
            elif kind == "rebuffer_start":
                stalled[view] = at
            elif kind == "rebuffer_end":
                start = stalled.pop(view, None)
                ms = r["duration_ms"] if start is None else at - start
                if ms is not None:
                    m.analytics_rebuffer.observe(max(0, ms) / 1000)


class EventSink(Protocol):
    name: str

    async def write(self, batches: Sequence[Accepted]) -> None: ...


class DatabaseEventSink:
    """Raw events and their pending views, in one transaction per flush."""

    name = "db"

    def __init__(self, infra: Infra) -> None:
        self.infra = infra

    async def write(self, batches: Sequence[Accepted]) -> None:
        rows = [row for b in batches for row in b.rows]
        async with self.infra.transaction() as session:
            await repository.add_events(session, rows)


def encode_record(batch: Accepted) -> bytes:
    return json.dumps({"v": RECORD_VERSION, "kind": "events", "rows": batch.rows}).encode()


class KafkaEventSink:
    """One record per accepted batch on the analytics topic, keyed by video."""

    name = "kafka"

    def __init__(self, broker: Broker, topic: str) -> None:
        self.broker = broker
        self.topic = topic

    async def write(self, batches: Sequence[Accepted]) -> None:
        await self.broker.send(
            [Outgoing(self.topic, b.video_id, encode_record(b)) for b in batches]
        )


class EventBuffer(PeriodicFlusher):
    task_name = "analytics-flush"

    def __init__(self, sink: EventSink, infra: Infra) -> None:
        cfg = infra.settings.analytics
        super().__init__(cfg.flush_seconds)
        self.sink = sink
        self.metrics = infra.metrics
        self.flush_events = cfg.flush_events
        self.max_buffered = cfg.max_buffered
        self.buffered = 0
        self._batches: deque[Accepted] = deque()

    def add(self, batch: Accepted) -> bool:
        """Called in the request: append, never wait. False when full (dropped)."""
        n = len(batch.rows)
        if self.buffered + n > self.max_buffered:
            self.metrics.analytics_dropped.labels("buffer_full").inc(n)
            return False
        self._batches.append(batch)
        self.buffered += n
        if self.buffered >= self.flush_events:
            self.wake()
        return True

    async def _flush(self) -> None:
        while self._batches:
            taken: list[Accepted] = []
            count = 0
            while self._batches and count < self.flush_events:
                batch = self._batches.popleft()
                taken.append(batch)
                count += len(batch.rows)
            self.buffered -= count
            try:
                await self.sink.write(taken)
                self.metrics.analytics_events.labels(self.sink.name).inc(count)
            except Exception:
                log.warning("analytics.flush_failed", events=count, exc_info=True)
                if self.buffered + count <= self.max_buffered:
                    self._batches.extendleft(reversed(taken))
                    self.buffered += count
                else:
                    self.metrics.analytics_dropped.labels("sink_failed").inc(count)
                return


class BeaconIngest:
    """This process's beacon intake: the checker and the buffer with its sink (Kafka
    when the bus has a broker, else the database)."""

    def __init__(self, infra: Infra) -> None:
        self.infra = infra
        self.checker = Checker(infra)
        broker = infra.bus.broker
        sink: EventSink
        if broker is not None:
            t = infra.settings.bus.topics
            sink = KafkaEventSink(broker, t.prefix + t.analytics)
        else:
            sink = DatabaseEventSink(infra)
        self.buffer = EventBuffer(sink, infra)

    def start(self) -> None:
        self.buffer.start()

    async def stop(self) -> None:
        await self.buffer.stop()

    async def _limit(self, key: str, count: int) -> None:
        cfg = self.infra.settings.analytics
        try:
            decision = await self.infra.ratelimiter.hit(key, count, cfg.limit_window_seconds)
        except RateLimiterUnavailable:
            # Fail open: losing the limit briefly costs less than losing the beacons.
            log.warning("analytics.ratelimit_unavailable")
            return
        if not decision.allowed:
            self.infra.metrics.analytics_refused.labels("rate_limited").inc()
            raise TooManyRequests("too many beacons; retry later", retry_after=decision.retry_after)

    async def address_allowed(self, client_ip: str | None) -> None:
        """Count a batch for its address (before its body is read); TooManyRequests past
        the limit."""
        limit = self.infra.settings.analytics.address_limit
        await self._limit(f"beacon:ip:{client_ip or 'unknown'}", limit)

    async def accept(self, raw: bytes, query_token: str | None) -> int:
        """A request body (already capped at max_body_bytes) checked, limited per token
        and buffered; the events accepted (0: dropped, the buffer is full). Raises
        Refused (400), PayloadTooLarge (413) or TooManyRequests (429), all counted."""
        metrics = self.infra.metrics
        cfg = self.infra.settings.analytics
        if len(raw) > cfg.max_body_bytes:
            metrics.analytics_refused.labels("too_large").inc()
            raise PayloadTooLarge(f"a batch is at most {cfg.max_body_bytes} bytes")
        try:
            accepted = self.checker.check(parse_body(raw), query_token)
        except Refused as exc:
            metrics.analytics_refused.labels(exc.reason).inc()
            raise
        await self._limit(f"beacon:token:{accepted.token_key}", cfg.token_limit)
        return len(accepted.rows) if self.buffer.add(accepted) else 0
