"""The nginx mode against a real nginx (Debian `nginx`) running
deploy/nginx/streamcore.conf.template: streamcore checks the token and answers
X-Accel-Redirect; nginx sends the file, with Range, ETag/304, HEAD and CORS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from streamcore.stream.http import local_etag
from streamcore.videos import layout
from tests.fixtures.nginx import Nginx, free_port, nginx, streamcore_server_block
from tests.fixtures.services import LiveServer, live_server, server_env
from tests.stream.conftest import Asset, put_asset

SEGMENT = "hls/720p/seg_00000.ts"


@dataclass
class Front:
    server: LiveServer
    nginx: Nginx


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory, secret: str) -> Iterator[Front]:
    data = tmp_path_factory.mktemp("nginx-mode")
    env = server_env(
        data,
        f"sqlite+aiosqlite:///{data / 'streamcore.db'}",
        secret,
        STREAMCORE_STREAM__LOCAL_DELIVERY="nginx",
    )
    with live_server(data, env) as srv:
        port = free_port()
        block = streamcore_server_block(
            port, srv.base_url.removeprefix("http://"), data / "objects"
        )
        with nginx(data / "nginx", block, port) as proxy:
            yield Front(srv, proxy)


@pytest.fixture
def asset(front: Front) -> Asset:
    return put_asset(front.server)


def test_streamcore_alone_answers_with_x_accel_redirect(front: Front, asset: Asset) -> None:
    resp = httpx.get(front.server.base_url + asset.name(SEGMENT))
    assert resp.status_code == 200
    assert resp.content == b""
    key = layout.key(asset.id, SEGMENT)
    assert resp.headers["x-accel-redirect"] == f"/_streamcore/objects/{key}"


def test_nginx_sends_the_segment_with_http_semantics(front: Front, asset: Asset) -> None:
    path = front.server.data_dir / "objects" / layout.key(asset.id, SEGMENT)
    st = os.stat(path)
    with httpx.Client(base_url=front.nginx.base_url, timeout=30) as http:
        url = asset.name(SEGMENT)
        full = http.get(url, headers={"Origin": "https://player.example"})
        assert full.status_code == 200
        assert full.content == asset.segment
        assert full.headers["server"].startswith("nginx")
        assert full.headers["content-type"] == "video/mp2t"
        assert full.headers["cache-control"].startswith("private, max-age=")
        assert full.headers["access-control-allow-origin"] == "*"
        # The same validator as streamcore gives when it sends the file itself.
        assert full.headers["etag"] == local_etag(st.st_size, st.st_mtime)
        assert http.get(url, headers={"If-None-Match": full.headers["etag"]}).status_code == 304
        part = http.get(url, headers={"Range": "bytes=10-19"})
        assert part.status_code == 206
        assert part.content == asset.segment[10:20]
        assert part.headers["content-range"] == f"bytes 10-19/{len(asset.segment)}"
        outside = http.get(url, headers={"Range": f"bytes={len(asset.segment)}-"})
        assert outside.status_code == 416
        head = http.head(url)
        assert head.status_code == 200
        assert int(head.headers["content-length"]) == len(asset.segment)
        assert head.content == b""


def test_nginx_passes_token_checks_playlists_and_hides_the_files(
    front: Front, asset: Asset
) -> None:
    with httpx.Client(base_url=front.nginx.base_url, timeout=30) as http:
        master = http.get(asset.name("hls/master.m3u8"))
        assert master.status_code == 200
        assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
        variant_url = next(ln for ln in master.text.splitlines() if ln.endswith(".m3u8"))
        variant = http.get(f"/stream/{variant_url}")
        first = next(ln for ln in variant.text.splitlines() if ln.endswith(".ts"))
        assert http.get(f"/stream/{first}").content == asset.segment
        bad = http.get("/stream/not-a-token.ts")
        assert bad.status_code == 403
        assert bad.json()["error"] == "Forbidden"
        # The internal location is only reachable through X-Accel-Redirect.
        direct = http.get(f"/_streamcore/objects/{layout.key(asset.id, SEGMENT)}")
        assert direct.status_code == 404
        # Everything else is proxied to streamcore.
        assert http.get("/health").json()["status"] == "ok"
