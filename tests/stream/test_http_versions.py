"""The server speaks HTTP/2 (cleartext, prior knowledge) besides HTTP/1.1 with
keep-alive, on the same port: curl (nghttp2) as the client."""

from __future__ import annotations

import subprocess

import pytest

from tests.fixtures.services import LiveServer
from tests.stream.conftest import put_asset


def curl(*args: str) -> str:
    out = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", *args], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


# The server, not the storage backend, is under test: local disk only.
@pytest.mark.parametrize("storage_server", ["local"], indirect=True)
def test_http2_and_keep_alive(storage_server: LiveServer) -> None:
    asset = put_asset(storage_server)
    url = storage_server.base_url + asset.name("hls/720p/seg_00000.ts")
    h2 = curl("--http2-prior-knowledge", "-w", "%{http_version} %{http_code} %{size_download}", url)
    assert h2 == f"2 200 {len(asset.segment)}"
    # Two requests on one HTTP/1.1 connection: curl reuses it (one connect).
    both = curl("-w", "%{num_connects} ", url, "-o", "/dev/null", url)
    assert both.split() == ["1", "0"]
