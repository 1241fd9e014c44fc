"""Prometheus metrics, one registry per Infra (so tests can build several)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

# Label values known in advance get their series at 0 from the start: Prometheus'
# rate() ignores the first sample of a series, so a counter that appears only when
# its first event happens shows no rate (and a histogram no quantile) for that event.
UPLOAD_METHODS = ("multipart", "presign", "tus", "url")
STREAM_KINDS = ("master", "variant", "segment")
ANALYTICS_REFUSALS = (
    "malformed", "too_large", "too_many", "empty", "invalid_event", "unknown_type",
    "backwards", "clock", "no_token", "bad_token", "other_video", "rate_limited",
)  # fmt: skip


class Metrics:
    def __init__(self, job_kinds: tuple[str, ...] = ()) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        r = self.registry
        self.http_requests = Counter(
            "streamcore_http_requests_total",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "streamcore_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["route", "method"],
            registry=r,
        )
        self.jobs_enqueued = Counter(
            "streamcore_jobs_enqueued_total", "Jobs written to the queue.", ["kind"], registry=r
        )
        self.jobs_finished = Counter(
            "streamcore_jobs_finished_total",
            "Jobs that reached a final or retry state, by outcome and error class.",
            ["kind", "outcome", "error_class"],
            registry=r,
        )
        self.jobs_running = Gauge(
            "streamcore_jobs_running", "Jobs running in this process.", ["kind"], registry=r
        )
        self.job_duration = Histogram(
            "streamcore_job_duration_seconds",
            "Wall time of one job attempt.",
            ["kind"],
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
            registry=r,
        )
        self.ffmpeg_speed = Histogram(
            "streamcore_ffmpeg_speed_ratio",
            "Media seconds processed per wall second (x realtime).",
            ["kind"],
            buckets=(0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
            registry=r,
        )
        self.bus_lag = Gauge(
            "streamcore_bus_lag_messages",
            "Messages of a job topic the worker group has not committed yet.",
            ["topic"],
            registry=r,
        )
        self.bus_consumers = Gauge(
            "streamcore_bus_consumers", "Kafka consumers this worker runs.", registry=r
        )
        self.upload_bytes = Counter(
            "streamcore_upload_bytes_total", "Bytes received by uploads.", ["method"], registry=r
        )
        self.uploads = Counter(
            "streamcore_uploads_total",
            "Upload attempts by method and result.",
            ["method", "result"],
            registry=r,
        )
        self.stream_requests = Counter(
            "streamcore_stream_requests_total",
            "Playback requests by kind (master, variant, segment) and status.",
            ["kind", "status"],
            registry=r,
        )
        self.stream_bytes = Counter(
            "streamcore_stream_bytes_total", "Bytes of segments served.", registry=r
        )
        self.webhook_deliveries = Counter(
            "streamcore_webhook_deliveries_total",
            "Webhook delivery attempts by outcome (succeeded, retrying, failed).",
            ["outcome"],
            registry=r,
        )
        self.webhook_first_attempt_delay = Histogram(
            "streamcore_webhook_first_attempt_delay_seconds",
            "Time from the committed event to the first attempt of its delivery.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
            registry=r,
        )
        self.webhook_endpoints_disabled = Counter(
            "streamcore_webhook_endpoints_disabled_total",
            "Webhook endpoints disabled by us, by reason (gone, failing).",
            ["reason"],
            registry=r,
        )
        self.analytics_events = Counter(
            "streamcore_analytics_events_total",
            "Player beacon events written, by sink (db, kafka).",
            ["sink"],
            registry=r,
        )
        self.analytics_refused = Counter(
            "streamcore_analytics_refused_total",
            "Beacon batches refused (400/413/429), by reason.",
            ["reason"],
            registry=r,
        )
        self.analytics_dropped = Counter(
            "streamcore_analytics_dropped_total",
            "Beacon events accepted but dropped (buffer full, sink failing), by reason.",
            ["reason"],
            registry=r,
        )
        self.analytics_startup = Histogram(
            "streamcore_analytics_startup_seconds",
            "Video startup time reported by players: play request (view_start) to first frame.",
            buckets=(0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30),
            registry=r,
        )
        self.analytics_rebuffer = Histogram(
            "streamcore_analytics_rebuffer_seconds",
            "Duration of one rebuffering stall reported by players.",
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
            registry=r,
        )
        self._initialise(job_kinds)

    def _initialise(self, job_kinds: tuple[str, ...]) -> None:
        for kind in job_kinds:
            self.jobs_enqueued.labels(kind)
            self.jobs_running.labels(kind)
            self.job_duration.labels(kind)
            self.jobs_finished.labels(kind, "succeeded", "")
        for kind in ("transcode", "transcribe"):
            self.ffmpeg_speed.labels(kind)
        for method in UPLOAD_METHODS:
            self.upload_bytes.labels(method)
            self.uploads.labels(method, "ok")
        for kind in STREAM_KINDS:
            self.stream_requests.labels(kind, "200")
        for outcome in ("succeeded", "retrying", "failed"):
            self.webhook_deliveries.labels(outcome)
        for reason in ("gone", "failing"):
            self.webhook_endpoints_disabled.labels(reason)
        for sink in ("db", "kafka"):
            self.analytics_events.labels(sink)
        for reason in ANALYTICS_REFUSALS:
            self.analytics_refused.labels(reason)
        for reason in ("buffer_full", "sink_failed"):
            self.analytics_dropped.labels(reason)


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> Callable[[], None]:
    """`/metrics` of a process without an HTTP API (the worker), on its own port, from
    prometheus-client's threaded server; returns the function that stops it. A port in
    use is an error (OSError), not a silently missing target."""
    server, thread = start_http_server(port, host, registry=registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return stop
