"""One Settings object for the whole process; nested groups, env prefix STREAMCORE_.

Nested values use a double underscore: STREAMCORE_STORAGE__BACKEND=s3.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseModel):
    # Empty means "SQLite file under data_dir" (embedded mode).
    url: str = ""
    echo: bool = False
    auto_migrate: bool = True


class StorageSettings(BaseModel):
    backend: Literal["local"] = "local"
    # Empty means "<data_dir>/objects".
    local_root: str = ""


class TopicSettings(BaseModel):
    """Kafka topic names; each job topic has a dead-letter twin `<topic><dlq_suffix>`."""

    ingest: str = "media.ingest"
    transcode: str = "media.transcode"
    transcribe: str = "media.transcribe"
    transcribed: str = "media.transcribed"
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
    session_timeout_ms: int = 30_000
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
    # Empty: signals (job cancellation) stay inside the process (embedded mode).
    url: str = ""
    channel_prefix: str = "streamcore"


class WorkerSettings(BaseModel):
    concurrency: int = Field(default=1, ge=1, le=32)
    max_attempts: int = Field(default=3, ge=1)
    # A job whose worker stopped heartbeating for this long is given back to the queue.
    lease_seconds: float = 60.0
    heartbeat_seconds: float = 5.0
    # Retry delay after transient failure n: uniform in [c/2, c], c = base * 2**(n-1) <= max.
    backoff_base_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=300.0, gt=0)


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


class StreamSettings(BaseModel):
    token_ttl_seconds: int = 6 * 3600


class UploadSettings(BaseModel):
    max_bytes: int = 20 * 1024**3
    chunk_bytes: int = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STREAMCORE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("./data")
    # Used to derive the stream token key. Empty: a key is generated once and kept in data_dir.
    secret_key: str = ""
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

    def resolved_secret(self) -> str:
        """The configured secret, or one generated on first use and kept under data_dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value
