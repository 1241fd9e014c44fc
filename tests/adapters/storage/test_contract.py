"""One contract for every ObjectStorage: local disk, SeaweedFS (S3) and Azurite (Azure
Blob), all real."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from streamcore.adapters.storage.azure import AzureBlobStorage
from streamcore.adapters.storage.base import (
    InvalidKey,
    NotSupported,
    ObjectNotFound,
    ObjectStorage,
    StorageUnavailable,
    UploadIncomplete,
    upload_directory,
)
from streamcore.adapters.storage.local import LocalStorage
from streamcore.adapters.storage.s3 import S3Storage
from tests.fixtures.object_stores import AzureServer, S3Server, free_port_pair

MiB = 1024 * 1024
# The smallest part S3 accepts; small parts keep the multipart paths cheap to exercise.
PART = 5 * MiB


@pytest.fixture(params=["local", "s3", "azure"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStorage]:
    store: ObjectStorage
    if request.param == "local":
        store = LocalStorage(tmp_path / "objects")
    elif request.param == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        store = S3Storage(s3.config(part_bytes=PART, tmp_dir=tmp_path / "tmp"))
    else:
        az: AzureServer = request.getfixturevalue("azure_server")
        store = AzureBlobStorage(az.config(part_bytes=PART, tmp_dir=tmp_path / "tmp"))
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def prefix() -> str:
    """Tests share one bucket per backend; each works under its own prefix."""
    return f"t/{uuid.uuid4().hex}"


async def chunked(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def read_all(store: ObjectStorage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([c async for c in store.iter_range(key, start, end)])


async def test_bytes_round_trip_and_stat(storage: ObjectStorage, prefix: str) -> None:
    key = f"{prefix}/a/b.bin"
    assert await storage.put_bytes(key, b"hello world") == 11
    assert await storage.get_bytes(key) == b"hello world"
    assert (await storage.stat(key)).size == 11
    assert await storage.exists(key)
    assert await read_all(storage, key, 6) == b"world"
    assert await read_all(storage, key, 0, 4) == b"hello"
    assert await read_all(storage, key, 4, 6) == b"o w"
    await storage.put_bytes(key, b"replaced")
    assert await storage.get_bytes(key) == b"replaced"
    await storage.check()


async def test_missing_objects_raise_object_not_found(storage: ObjectStorage, prefix: str) -> None:
    key = f"{prefix}/missing"
    with pytest.raises(ObjectNotFound):
        await storage.get_bytes(key)
    with pytest.raises(ObjectNotFound):
        await storage.stat(key)
    with pytest.raises(ObjectNotFound):
        await read_all(storage, key)
    with pytest.raises(ObjectNotFound):
        async with storage.local_copy(key):
            pass
    assert not await storage.exists(key)
    await storage.delete(key)  # not an error


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a", "a\\b", "a/\x00"])
async def test_invalid_keys_are_refused(storage: ObjectStorage, key: str) -> None:
    with pytest.raises(InvalidKey):
        await storage.put_bytes(key, b"x")
    with pytest.raises(InvalidKey):
        await storage.stat(key)


async def test_put_stream_in_parts_keeps_every_byte(storage: ObjectStorage, prefix: str) -> None:
    data = os.urandom(2 * PART + 12345)
    key = f"{prefix}/big"
    # Odd chunk sizes cross part boundaries.
    assert await storage.put_stream(key, chunked(data, 777_777)) == len(data)
    assert (await storage.stat(key)).size == len(data)
    got = await read_all(storage, key)
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    assert await read_all(storage, key, PART - 10, PART + 9) == data[PART - 10 : PART + 10]
    async with storage.local_copy(key) as path:
        assert path.read_bytes() == data
    if storage.local_path(key) is None:
        assert not path.exists(), "remote local_copy must remove its temporary file"


async def test_put_stream_empty_object(storage: ObjectStorage, prefix: str) -> None:
    key = f"{prefix}/empty"
    assert await storage.put_stream(key, chunked(b"", 10)) == 0
    assert await storage.get_bytes(key) == b""
    assert await read_all(storage, key) == b""


@pytest.mark.parametrize("fail_after", [1, 3])
async def test_failed_put_stream_leaves_nothing(
    storage: ObjectStorage, prefix: str, fail_after: int
) -> None:
    key = f"{prefix}/broken"

    async def body() -> AsyncIterator[bytes]:
        for _ in range(fail_after):
            yield os.urandom(2 * MiB)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await storage.put_stream(key, body())
    assert not await storage.exists(key)


async def test_delete_and_delete_prefix(
    storage: ObjectStorage, prefix: str, tmp_path: Path
) -> None:
    src = tmp_path / "tree"
    (src / "v0").mkdir(parents=True)
    (src / "master.m3u8").write_text("#EXTM3U\n")
    (src / "v0" / "seg0.ts").write_bytes(b"\x47" * 188)
    assert await upload_directory(storage, src, f"{prefix}/hls") == 2
    await storage.put_bytes(f"{prefix}/hlsx", b"neighbour")
    assert await storage.delete_prefix(f"{prefix}/hls") == 2
    assert not await storage.exists(f"{prefix}/hls/v0/seg0.ts")
    assert await storage.get_bytes(f"{prefix}/hlsx") == b"neighbour"
    await storage.delete(f"{prefix}/hlsx")
    assert not await storage.exists(f"{prefix}/hlsx")


async def test_compose_joins_and_removes_sources(storage: ObjectStorage, prefix: str) -> None:
    parts = [os.urandom(n) for n in (100, 0, 70_000)]
    keys = [f"{prefix}/chunks/{i}" for i in range(len(parts))]
    for key, data in zip(keys, parts, strict=True):
        await storage.put_bytes(key, data)
    assert await storage.compose(f"{prefix}/joined", keys) == 70_100
    assert await storage.get_bytes(f"{prefix}/joined") == b"".join(parts)
    for key in keys:
        assert not await storage.exists(key)


async def test_presigned_put_and_get(storage: ObjectStorage, prefix: str) -> None:
    key = f"{prefix}/presigned.mp4"
    if not storage.presigns:
        with pytest.raises(NotSupported):
            await storage.presign_put(key, expires_in=60)
        return
    req = await storage.presign_put(key, expires_in=300, content_type="video/mp4")
    async with httpx.AsyncClient() as client:
        resp = await client.request(req.method, req.url, headers=req.headers, content=b"x" * 1000)
        assert resp.status_code in (200, 201), resp.text
        assert (await storage.stat(key)).size == 1000
        url = await storage.presign_get(key, expires_in=300)
        got = await client.get(url, headers={"Range": "bytes=10-19"})
        assert got.status_code == 206
        assert got.content == b"x" * 10
        # A tampered signature is refused by the storage service itself.
        bad = await client.request("PUT", req.url[:-3] + "AAA", headers=req.headers, content=b"y")
        assert bad.status_code == 403
    assert (await storage.stat(key)).size == 1000


async def test_presigned_multipart(storage: ObjectStorage, prefix: str) -> None:
    key = f"{prefix}/multi.bin"
    if not storage.presigns:
        with pytest.raises(NotSupported):
            await storage.create_multipart(key)
        return
    data = os.urandom(PART + 1000)
    pieces = [data[:PART], data[PART:]]
    upload_id = await storage.create_multipart(key, content_type="video/mp4")
    with pytest.raises(UploadIncomplete):
        await storage.complete_multipart(key, upload_id, 2)
    async with httpx.AsyncClient() as client:
        for n, piece in enumerate(pieces, 1):
            req = await storage.presign_part(key, upload_id, n, expires_in=300)
            resp = await client.request(req.method, req.url, headers=req.headers, content=piece)
            assert resp.status_code in (200, 201), resp.text
    assert not await storage.exists(key)
    assert await storage.complete_multipart(key, upload_id, 2) == len(data)
    assert await storage.get_bytes(key) == data


async def test_unreachable_backend_is_storage_unavailable(tmp_path: Path) -> None:
    from tests.fixtures.object_stores import AzureServer as Az
    from tests.fixtures.object_stores import S3Server as S3

    dead = f"http://127.0.0.1:{free_port_pair()}"
    stores: list[ObjectStorage] = [
        S3Storage(S3(dead, "k", "s", "b").config(retries=0)),
        AzureBlobStorage(Az(f"{dead}/devstoreaccount1", "c").config(retries=0)),
    ]
    for store in stores:
        try:
            with pytest.raises(StorageUnavailable):
                await store.put_stream("a/b", chunked(b"x" * 100, 10))
            with pytest.raises(StorageUnavailable):
                await store.stat("a/b")
            with pytest.raises(StorageUnavailable):
                await store.check()
        finally:
            await store.close()
