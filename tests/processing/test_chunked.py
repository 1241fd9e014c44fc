"""Chunked transcoding on real processes: an API node and two `streamcore worker`s on
PostgreSQL, the jobs table as the bus. A long clip is cut into chunks that both workers
encode, the audio is encoded once, and the stitch joins the chunks' segments into one
continuous stream per rung.

In CI the clip is short (STREAMCORE_CHUNKED_FULL unset: 40 s at 640x360 in 12 s chunks,
so the suite stays fast); STREAMCORE_CHUNKED_FULL=1 runs the issue's form: 6 minutes of
1280x720 at 30 fps with sound, in 60 s chunks."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from streamcore.media.chunks import plan_chunks
from streamcore.media.ffmpeg_args import hls_ladder_args
from streamcore.media.ladder import plan_ladder
from streamcore.media.probe import interpret_probe, probe_args
from tests.bus.test_distributed import jobs_of, wait_for
from tests.fixtures.cluster import Cluster, WorkerProcess, cluster, pid_alive
from tests.fixtures.media import make_clip
from tests.fixtures.services import postgres_database
from tests.helpers import create_project, decode_all, ffprobe_json, parse_master, upload, wait_final

pytestmark = pytest.mark.slow

FULL = os.environ.get("STREAMCORE_CHUNKED_FULL") == "1"
SECONDS = 360 if FULL else 40
SIZE = "1280x720" if FULL else "640x360"
CHUNK = 60 if FULL else 12
THRESHOLD = 120 if FULL else 20
FPS = 30
FRAME = 1 / FPS
SPANS = plan_chunks(
    SECONDS, threshold=THRESHOLD, chunk_seconds=CHUNK, first_seconds=4, segment_seconds=4
)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, secret: str) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("chunked")
    env = {
        "STREAMCORE_MEDIA__CHUNK_THRESHOLD_SECONDS": str(THRESHOLD),
        "STREAMCORE_MEDIA__CHUNK_SECONDS": str(CHUNK),
        "STREAMCORE_MEDIA__FIRST_CHUNK_SECONDS": "4",
        "STREAMCORE_WORKER__LEASE_SECONDS": "4",
        "STREAMCORE_WORKER__HEARTBEAT_SECONDS": "1",
        "STREAMCORE_WORKER__BACKOFF_BASE_SECONDS": "0.2",
        "STREAMCORE_WORKER__METRICS_PORT": "0",
    }
    with postgres_database() as db_url, cluster(data_dir, db_url, secret, env) as running:
        yield running


@pytest.fixture(scope="module")
def client(deployment: Cluster) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=deployment.api.base_url, timeout=60, headers=deployment.api.admin_headers
    ) as c:
        deployment.wait_workers_registered(c, 2)
        yield c


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(
        tmp_path_factory.mktemp("clips") / "long.mp4", seconds=SECONDS, size=SIZE, rate=FPS
    )


def video_packets(url: str) -> tuple[list[float], int]:
    """The video stream's presentation times, sorted, and its payload bytes."""
    data = ffprobe_json(url, "-select_streams", "v:0", "-show_entries", "packet=pts_time,size")
    packets = data["packets"]
    return sorted(float(p["pts_time"]) for p in packets), sum(int(p["size"]) for p in packets)


def playlist_sizes(client: httpx.Client, variant_url: str) -> tuple[float, int, list[str]]:
    """(seconds, bytes, segment names) of a media playlist, fetched segment by segment."""
    text = client.get(variant_url).text
    seconds = sum(
        float(ln[8:].split(",")[0]) for ln in text.splitlines() if ln.startswith("#EXTINF:")
    )
    uris = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    total = sum(len(client.get(httpx.URL(variant_url).join(u)).content) for u in uris)
    return seconds, total, uris


def single_pass_kbps(source: Path, out: Path) -> dict[str, float]:
    """The single pass's average bitrate per rung on the same clip: the exact command a
    short video gets, run here."""
    probe = subprocess.run(["ffprobe", *probe_args(str(source))], capture_output=True, check=True)
    info = interpret_probe(
        json.loads(probe.stdout), max_duration=1e9, max_width=10**5, max_height=10**5
    )
    args = hls_ladder_args(source, out, info, plan_ladder(info), preset="ultrafast")
    subprocess.run(["ffmpeg", *args], check=True, stdout=subprocess.DEVNULL)
    rates = {}
    for rung in plan_ladder(info):
        d = out / rung.name
        segs = list(d.glob("*.ts"))
        # The single pass muxes the audio into every rung: count the video stream only.
        video = 0
        for seg in segs:
            data = json.loads(subprocess.run(
                ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                 "packet=size", "-of", "json", str(seg)], capture_output=True, check=True,
            ).stdout)  # fmt: skip
            video += sum(int(p["size"]) for p in data["packets"])
        rates[rung.name] = video * 8 / SECONDS / 1000
    return rates


def test_a_long_video_is_cut_encoded_by_both_workers_and_stitched(
    deployment: Cluster, client: httpx.Client, long_clip: Path, tmp_path: Path
) -> None:
    started = time.monotonic()
    video = upload(client, create_project(client, "chunked"), long_clip)
    video = wait_final(client, video["id"], timeout=900)
    assert video["status"] == "ready", video
    print(
        f"\n{SECONDS} s {SIZE} in {len(SPANS)} chunks: ready in {time.monotonic() - started:.1f} s"
    )

    jobs = jobs_of(client, video["id"])
    chunks = [j for j in jobs if j["kind"] == "transcode_chunk"]
    assert len(chunks) == len(SPANS) > 2
    assert all(j["status"] == "succeeded" and j["attempts"] == 1 for j in chunks), chunks
    assert [j["kind"] for j in jobs].count("transcode_audio") == 1
    assert [j["kind"] for j in jobs].count("stitch") == 1
    assert not any(j["kind"] == "transcode" for j in jobs)
    # Both workers took pieces (in the short form one may spend the run on the audio).
    pieces = re.compile(r"job\.finished .*kind=transcode_(chunk|audio) outcome=succeeded")
    done_by = [len(pieces.findall(w.log())) for w in deployment.workers]
    assert all(n >= 1 for n in done_by), f"each worker runs pieces: {done_by}"
    assert sum(done_by) == len(SPANS) + 1

    master = client.get(video["playback_url"])
    variants = parse_master(master.text)
    assert 'TYPE=AUDIO,GROUP-ID="audio"' in master.text
    assert {v["RESOLUTION"] for v in variants} == {
        f"{r.width}x{r.height}" for r in _rungs(long_clip)
    }
    mine: dict[str, float] = {}
    for v in variants:
        url = str(httpx.URL(video["playback_url"]).join(v["URI"]))
        text = client.get(url).text
        assert "#EXT-X-DISCONTINUITY" not in text
        assert "#EXT-X-ENDLIST" in text
        decode_all(url)
        pts, payload = video_packets(url)
        steps = [b - a for a, b in itertools.pairwise(pts)]
        assert min(steps) > 0, "timestamps are monotonic"
        assert max(steps) <= FRAME + 0.002, f"no gap over one frame: {max(steps):.4f} s"
        assert len(pts) * FRAME == pytest.approx(SECONDS, abs=FRAME + 1e-6)
        seconds, _size, _ = playlist_sizes(client, url)
        assert seconds == pytest.approx(SECONDS, abs=FRAME)
        assert int(v["BANDWIDTH"]) >= max_segment_bps(client, url) / 1.1
        mine[v["RESOLUTION"]] = payload * 8 / SECONDS / 1000
    audio_uri = master.text.split('URI="', 1)[1].split('"', 1)[0]
    decode_all(str(httpx.URL(video["playback_url"]).join(audio_uri)))

    single = single_pass_kbps(long_clip, tmp_path / "single")
    for rung in _rungs(long_clip):
        chunked = mine[f"{rung.width}x{rung.height}"]
        print(f"{rung.name}: chunked {chunked:.0f} kbit/s, single pass {single[rung.name]:.0f}")
        assert chunked == pytest.approx(single[rung.name], rel=0.10), rung.name

    mp4 = ffprobe_json(video["derivatives"]["mp4"], "-show_streams", "-show_format")
    assert [s["codec_name"] for s in mp4["streams"]] == ["h264", "aac"]
    assert float(mp4["format"]["duration"]) == pytest.approx(SECONDS, abs=0.2)
    assert video["derivatives"]["posters"]
    assert video["derivatives"]["storyboard"]


def max_segment_bps(client: httpx.Client, variant_url: str) -> float:
    text = client.get(variant_url).text.splitlines()
    peak = 0.0
    for i, line in enumerate(text):
        if line.startswith("#EXTINF:"):
            d = float(line[8:].split(",")[0])
            size = len(client.get(httpx.URL(variant_url).join(text[i + 1])).content)
            if d > 0.5:
                peak = max(peak, size * 8 / d)
    return peak


def _rungs(clip: Path) -> list[Any]:
    probe = subprocess.run(["ffprobe", *probe_args(str(clip))], capture_output=True, check=True)
    return plan_ladder(
        interpret_probe(
            json.loads(probe.stdout), max_duration=1e9, max_width=10**5, max_height=10**5
        )
    )


def chunk_ffmpeg(deployment: Cluster) -> tuple[WorkerProcess, int, int] | None:
    """A worker with a chunk's FFmpeg running: (worker, FFmpeg pid, chunk start second)."""
    for worker in deployment.alive():
        for pid in worker.ffmpeg_pids():
            try:
                cmd = psutil.Process(pid).cmdline()
            except psutil.NoSuchProcess:
                continue
            if "-ss" in cmd and "-output_ts_offset" in cmd:
                return worker, pid, round(float(cmd[cmd.index("-ss") + 1]))
    return None


def later_chunk_encoding(deployment: Cluster) -> tuple[WorkerProcess, int, int]:
    """Wait for a chunk after the first (the first is short) to be encoding."""
    found: tuple[WorkerProcess, int, int] = wait_for(
        lambda: (f := chunk_ffmpeg(deployment)) and f[2] > 0 and f, 120, "a chunk encoding", 0.05
    )
    return found


def chunks_by_start(client: httpx.Client, video_id: str) -> dict[int, dict[str, Any]]:
    return {
        round(j["params"]["start"]): j
        for j in jobs_of(client, video_id)
        if j["kind"] == "transcode_chunk"
    }


def test_a_worker_killed_mid_chunk_costs_that_chunk_only(
    deployment: Cluster, client: httpx.Client, long_clip: Path
) -> None:
    video = upload(client, create_project(client, "killed"), long_clip)
    # Kill its worker while it encodes.
    found = later_chunk_encoding(deployment)
    victim, pid, start = found
    victim.sigkill()
    assert not pid_alive(pid)
    replacement = deployment.start_worker()
    video = wait_final(client, video["id"], timeout=900)
    assert video["status"] == "ready", video
    chunks = chunks_by_start(client, video["id"])
    attempts = sorted(j["attempts"] for j in chunks.values())
    assert attempts == [1] * (len(SPANS) - 1) + [2], chunks
    # One set of outputs: every segment file on disk is named by its rung's playlist.
    root = deployment.data_dir / "objects" / "assets" / video["id"] / "hls"
    for rung_dir in (d for d in root.iterdir() if d.is_dir()):
        listed = {
            ln for ln in (rung_dir / "index.m3u8").read_text().splitlines() if ln.endswith(".ts")
        }
        on_disk = {p.name for p in rung_dir.glob("*.ts")}
        assert on_disk == listed, rung_dir.name
    assert replacement.process.poll() is None
    print(f"\nkilled the worker of the chunk at {start} s; only it ran twice")


def test_cancel_kills_every_chunk_ffmpeg_on_every_worker(
    deployment: Cluster, client: httpx.Client, long_clip: Path
) -> None:
    video = upload(client, create_project(client, "cancelled"), long_clip)

    def two_running() -> list[int] | None:
        pids = [p for w in deployment.alive() for p in w.ffmpeg_pids()]
        return (
            pids
            if len(deployment.alive()) >= 2 and all(w.ffmpeg_pids() for w in deployment.alive())
            else None
        )

    pids = wait_for(two_running, 120, "FFmpeg running on both workers", 0.05)
    resp = client.post(f"/admin/video/{video['id']}/stop")
    assert resp.status_code in (200, 202), resp.text
    wait_for(lambda: not any(pid_alive(p) for p in pids), 10, "every FFmpeg to stop")
    final = wait_final(client, video["id"], timeout=60)
    assert final["status"] == "cancelled", final
    time.sleep(1)
    assert not any(w.ffmpeg_pids() for w in deployment.alive())


def test_a_chunk_whose_ffmpeg_dies_retries_alone(
    deployment: Cluster, client: httpx.Client, long_clip: Path
) -> None:
    """FFmpeg killed from outside (the OOM killer): a transient failure of that chunk."""
    video = upload(client, create_project(client, "retried"), long_clip)
    found = later_chunk_encoding(deployment)
    _worker, pid, start = found
    os.kill(pid, signal.SIGKILL)
    video = wait_final(client, video["id"], timeout=900)
    assert video["status"] == "ready", video
    chunks = chunks_by_start(client, video["id"])
    assert chunks[start]["attempts"] == 2, chunks[start]
    assert chunks[start]["error_class"] == "TransientError", chunks[start]
    assert all(j["attempts"] == 1 for s, j in chunks.items() if s != start), chunks


def test_a_chunk_that_cannot_be_decoded_fails_the_video_and_stops_the_rest(
    deployment: Cluster, client: httpx.Client, long_clip: Path, tmp_path: Path
) -> None:
    data = bytearray(long_clip.read_bytes())
    at = int(len(data) * 0.6)  # inside the media data, in a later chunk's span
    data[at : at + 200_000] = random.Random(7).randbytes(200_000)
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    video = upload(client, create_project(client, "damaged"), damaged)
    final = wait_final(client, video["id"], timeout=300)
    assert final["status"] == "failed", final
    assert final["error"]["class"] == "DecodeFailed", final
    pieces = ("transcode_chunk", "transcode_audio")

    def settled() -> list[dict[str, Any]] | None:
        jobs = jobs_of(client, video["id"])
        busy = any(j["status"] in ("queued", "running") for j in jobs if j["kind"] in pieces)
        return None if busy else jobs

    # The pieces still running were told to stop; their workers record it.
    jobs = wait_for(settled, 30, "every other piece to stop", 0.2)
    statuses = {j["status"] for j in jobs if j["kind"] in pieces}
    assert "failed" in statuses
    assert statuses <= {"failed", "succeeded", "cancelled"}, jobs
    assert not any(j["kind"] == "stitch" for j in jobs)
    wait_for(lambda: not any(w.ffmpeg_pids() for w in deployment.alive()), 20, "FFmpeg to stop")
