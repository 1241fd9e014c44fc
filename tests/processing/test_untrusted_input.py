"""Uploads that try to make FFmpeg read other files or URLs are refused unread, and
every other kind of bad input ends with an error class the API shows."""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest

from streamcore.adapters.ffmpeg import FFmpegRunner, ProbeError
from streamcore.media.probe import probe_args
from tests.fixtures.sentinel import counting_server, file_tripwire
from tests.helpers import create_project, upload, wait_final

pytestmark = pytest.mark.slow


def hls_pointing_at(sentinel: Path, url: str) -> str:
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n"
        f"#EXTINF:10.0,\nfile://{sentinel}\n#EXTINF:10.0,\n{sentinel}\n"
        f"#EXTINF:10.0,\n{url}/segment.ts\n#EXT-X-ENDLIST\n"
    )


@pytest.mark.parametrize("kind", ["m3u8", "concat"])
def test_pointer_files_disguised_as_mp4_fail_and_read_nothing(
    client: httpx.Client, tmp_path: Path, kind: str
) -> None:
    with file_tripwire(tmp_path / "sentinel.txt") as sentinel, counting_server() as target:
        if kind == "m3u8":
            text = hls_pointing_at(sentinel.path, target.url)
        else:
            text = f"ffconcat version 1.0\nfile '{sentinel.path}'\nfile '{target.url}/x.mp4'\n"
        fake = tmp_path / "holiday.mp4"
        fake.write_text(text)
        video = wait_final(client, upload(client, create_project(client), fake)["id"])
        assert video["status"] == "failed"
        assert video["error"]["class"] == "UnsupportedMedia"
        assert sentinel.opened() == 0
        assert target.connections == []


async def test_ffprobe_itself_refuses_playlists(tmp_path: Path) -> None:
    """Second line of defence, below the magic-bytes check: the probe's demuxer
    whitelist, run on a playlist that the first check never sees."""
    with file_tripwire(tmp_path / "sentinel.txt") as sentinel, counting_server() as target:
        playlist = tmp_path / "video.mp4"
        playlist.write_text(hls_pointing_at(sentinel.path, target.url))
        with pytest.raises(ProbeError) as err:
            await FFmpegRunner().probe(probe_args(str(playlist)))
        assert "not on whitelist" in err.value.stderr_tail
        assert sentinel.opened() == 0
        assert target.connections == []


def test_image_and_random_bytes(client: httpx.Client, tmp_path: Path) -> None:
    from tests.fixtures.media import ffmpeg

    image = tmp_path / "frame.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1", "-f", "image2", str(image)
    )
    noise = tmp_path / "noise.mp4"
    # Seeded: some random byte strings do sniff as an elementary stream.
    noise.write_bytes(random.Random(1).randbytes(200_000))
    project = create_project(client)
    assert (
        wait_final(client, upload(client, project, image)["id"])["error"]["class"]
        == "UnsupportedMedia"
    )
    assert (
        wait_final(client, upload(client, project, noise)["id"])["error"]["class"] == "ProbeFailed"
    )
