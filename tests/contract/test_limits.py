"""One size limit and one quota for every way in, and the malformed inputs that used to
be 500s: each is a clear 4xx that leaves nothing behind."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.auth.conftest import running_api
from tests.contract.conftest import MiB, Tenant, contract_settings, make_tenant

KiB = 1024
TUS = {"Tus-Resumable": "1.0.0"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def start_take(t: Tenant) -> str:
    async with t.client() as c:
        resp = await c.post(f"/sessions/{t.session}/recordings", json={"name": "take"})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


async def test_recording_take_over_the_limit_is_413_and_keeps_no_bytes(small: Tenant) -> None:
    take = await start_take(small)
    base = f"/sessions/{small.session}/recordings/{take}"
    async with small.client() as c:
        # A chunk over the per-chunk limit is refused while it streams.
        big = await c.put(f"{base}/chunks/0", content=b"x" * (300 * KiB))
        assert big.status_code == 413, big.text
        for i in range(5):  # 5 x 250 KiB: every chunk fits, the take (1.22 MiB) does not
            resp = await c.put(f"{base}/chunks/{i}", content=b"y" * (250 * KiB))
            assert resp.status_code == 204, resp.text
        done = await c.post(f"{base}/complete", json={"chunks": 5})
        assert done.status_code == 413, done.text
        assert done.json()["error"] == "PayloadTooLarge"
        video = (await c.get(f"/videos/{take}")).json()
    assert video["status"] == "failed"
    assert video["error"]["class"] == "PayloadTooLarge"
    assert small.objects() == []


async def test_a_huge_chunk_count_is_a_quick_400(small: Tenant) -> None:
    take = await start_take(small)
    base = f"/sessions/{small.session}/recordings/{take}"
    async with small.client() as c:
        assert (await c.put(f"{base}/chunks/0", content=b"webm")).status_code == 204
        resp = await c.post(f"{base}/complete", json={"chunks": 100_000})
        assert resp.status_code == 409
        # The walk stopped at the first missing chunk: one lookup past the one sent.
        assert resp.json()["detail"] == "chunk 1 is missing (1 of 100000 received)"
        over = await c.post(f"{base}/complete", json={"chunks": 100_001})
        assert over.status_code == 422
        assert over.json()["error"] == "ValidationError"


async def test_the_project_quota_holds_on_every_way_in(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    settings = contract_settings(tmp_path, db, max_bytes=MiB, project_quota_bytes=MiB + 100)
    async with running_api(settings) as api:
        t = await make_tenant(api, tmp_path)
        async with t.client() as c:
            files = {"file": ("a.mp4", b"z" * MiB, "video/mp4")}
            assert (await c.post(f"/{t.project}/upload", files=files)).status_code == 201
            presign = {"project_id": t.project, "filename": "b.mp4", "size": 200}
            refused = await c.post("/uploads/presign", json=presign)
            assert refused.status_code == 413
            assert refused.json()["error"] == "QuotaExceeded"
            meta = f"project_id {b64(t.project)}"
            tus = await c.post(
                "/uploads/tus/", headers={**TUS, "Upload-Length": "200", "Upload-Metadata": meta}
            )
            assert tus.status_code == 413
            files = {"file": ("c.mp4", b"z" * 200, "video/mp4")}
            form = await c.post(f"/{t.project}/upload", files=files)
            assert form.status_code == 413
            take = await start_take(t)
            base = f"/sessions/{t.session}/recordings/{take}"
            assert (await c.put(f"{base}/chunks/0", content=b"w" * 200)).status_code == 413
        assert await t.rows() == {"assets": 2, "uploads": 0}  # the first upload and the take


async def test_file_names_keep_their_unicode(small: Tenant) -> None:
    async with small.client() as c:
        for name in ("été.mp4", "日本語 ビデオ.webm", "emoji 🎬.mov"):
            files = {"file": (name, b"not media", "video/mp4")}
            resp = await c.post(f"/{small.project}/upload", files=files)
            assert resp.status_code == 201, resp.text
            assert resp.json()["filename"] == name
        # RFC 5987 form, as some clients send it.
        body = (
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; '
            b"filename*=UTF-8''%C3%A9t%C3%A9%20%E2%9C%93.mp4\r\n"
            b"Content-Type: video/mp4\r\n\r\nbytes\r\n--XyZ--\r\n"
        )
        headers = {"Content-Type": "multipart/form-data; boundary=XyZ"}
        resp = await c.post(f"/{small.project}/upload", content=body, headers=headers)
        assert resp.status_code == 201, resp.text
        assert resp.json()["filename"] == "été ✓.mp4"


@pytest.mark.parametrize(
    ("disposition", "boundary"),
    [
        (b'form-data; name="file"; filename="\xe9t\xe9.mp4"', b"b"),  # latin-1, not UTF-8
        (b'form-data; name="f\xff\xfe"; filename="a.mp4"', b"b"),
        (b'form-data; name="file"; filename="a\x00b.mp4"', b"b"),
        (b'form-data; name="file"; filename="unterminated', b"b"),
        (b'form-data; name="file"; filename="a.mp4"', b"b" * 71),  # over RFC 2046's 70
        (b'form-data; name="file"; filename="a.mp4"', b"bad\x01boundary"),
    ],
)
async def test_malformed_multipart_is_400_and_stores_nothing(
    small: Tenant, disposition: bytes, boundary: bytes
) -> None:
    body = (
        b"--" + boundary + b"\r\nContent-Disposition: " + disposition + b"\r\n\r\n"
        b"bytes\r\n--" + boundary + b"--\r\n"
    )
    headers = {"Content-Type": b"multipart/form-data; boundary=" + boundary}
    async with small.client() as c:
        resp = await c.post(f"/{small.project}/upload", content=body, headers=headers)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"] == "BadRequest"
    assert await small.rows() == {"assets": 0, "uploads": 0}
    assert small.objects() == []


@pytest.mark.parametrize("value", ["²", "١٢", "-1", "1e3", "0x10", "", " ", "9" * 40])
async def test_tus_numbers_are_ascii_digits(small: Tenant, value: str) -> None:
    meta = f"project_id {b64(small.project)}"
    async with small.client() as c:
        create = await c.post(
            "/uploads/tus/",
            headers={**TUS, "Upload-Length": value.encode(), "Upload-Metadata": meta},
        )
        assert create.status_code == 400, create.text
        ok = await c.post(
            "/uploads/tus/", headers={**TUS, "Upload-Length": "4", "Upload-Metadata": meta}
        )
        assert ok.status_code == 201
        patch = await c.patch(
            ok.headers["location"],
            content=b"abcd",
            headers={
                **TUS,
                "Upload-Offset": value.encode(),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert patch.status_code == 400, patch.text


@pytest.mark.parametrize("session_id", ["", " ", "x", "0" * 31, "Z" * 32, "'; drop table"])
async def test_ids_in_bodies_are_checked_before_the_database(
    small: Tenant, session_id: str
) -> None:
    async with small.client() as c:
        presign = {"project_id": small.project, "filename": "a", "size": 4}
        resp = await c.post("/uploads/presign", json={**presign, "session_id": session_id})
        assert resp.status_code == 422, resp.text
        assert resp.json()["error"] == "ValidationError"
        url = await c.post(
            f"/{small.project}/upload",
            json={"url": "https://example.com/a.mp4", "session_id": session_id},
        )
        assert url.status_code == 422, url.text
    assert await small.rows() == {"assets": 0, "uploads": 0}


@pytest.mark.parametrize("sig", ["é", "\u00ff" * 64, "🎬", ""])
async def test_a_non_ascii_upload_signature_is_403(small: Tenant, sig: str) -> None:
    async with small.client() as c:
        resp = await c.put(
            f"/uploads/{'0' * 32}/object",
            params={"upload": "u", "exp": "9999999999", "sig": sig},
            content=b"abcd",
        )
    assert resp.status_code == 403, resp.text
