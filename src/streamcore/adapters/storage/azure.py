"""Azure Blob storage through azure-storage-blob's aio client. Writes are staged blocks
of `part_bytes` committed at the end (nothing is visible under the key until then);
presigned requests are SAS URLs signed with the account key."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import aiohttp
import anyio
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobBlock, BlobSasPermissions, generate_blob_sas
from azure.storage.blob.aio import BlobClient, BlobServiceClient, ContainerClient, ExponentialRetry

from streamcore.adapters.storage.base import (
    ObjectInfo,
    ObjectNotFound,
    PresignedRequest,
    StatExists,
    StorageError,
    StorageUnavailable,
    UploadIncomplete,
    check_key,
    compose_by_copy,
    download_to_temp,
)

# Deletes in flight at once while purging a prefix.
DELETE_CONCURRENCY = 32
# The header a plain PUT to a SAS URL needs to create a block blob.
BLOB_TYPE_HEADER = {"x-ms-blob-type": "BlockBlob"}


@dataclass(frozen=True)
class AzureConfig:
    account_name: str
    account_key: str
    container: str
    account_url: str = ""
    create_container: bool = False
    part_bytes: int = 8 * 1024 * 1024
    tmp_dir: Path | None = None
    retries: int = 2

    @property
    def url(self) -> str:
        return self.account_url or f"https://{self.account_name}.blob.core.windows.net"


@contextmanager
def _translated(key: str) -> Iterator[None]:
    try:
        yield
    except StorageError:
        raise
    except ResourceNotFoundError as exc:
        raise ObjectNotFound(key) from exc
    except AzureError as exc:
        raise StorageUnavailable(f"Azure Blob refused or failed: {type(exc).__name__}") from exc
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise StorageUnavailable(f"Azure Blob is unreachable: {type(exc).__name__}") from exc


def block_id(upload_id: str, part_number: int) -> str:
    """The SDK's form (it base64-encodes ids itself); all ids of a blob have one length."""
    return f"{upload_id}-{part_number:06d}"


class AzureBlobStorage(StatExists):
    name = "azure"
    presigns = True
    suffix_ranges = False

    def __init__(self, config: AzureConfig) -> None:
        self.config = config
        self._service: BlobServiceClient | None = None
        self._container: ContainerClient | None = None
        self._lock = asyncio.Lock()

    async def _box(self) -> ContainerClient:
        if self._container is not None:
            return self._container
        async with self._lock:
            if self._container is None:
                service = BlobServiceClient(
                    self.config.url,
                    credential=AzureNamedKeyCredential(
                        self.config.account_name, self.config.account_key
                    ),
                    # Fail fast when the service is down (the caller answers 503): the
                    # SDK's default storage retry waits 15 s, then 45 s.
                    retry_policy=ExponentialRetry(
                        initial_backoff=1, increment_base=2, retry_total=self.config.retries
                    ),
                    connection_timeout=5,
                    read_timeout=60,
                    max_single_put_size=self.config.part_bytes,
                )
                container = service.get_container_client(self.config.container)
                if self.config.create_container:
                    with _translated(self.config.container), suppress(ResourceExistsError):
                        await container.create_container()
                self._service, self._container = service, container
        return self._container

    async def _blob(self, key: str) -> BlobClient:
        return (await self._box()).get_blob_client(check_key(key))

    async def close(self) -> None:
        if self._service is not None:
            await self._service.close()
        self._service = self._container = None

    async def check(self) -> None:
        box = await self._box()
        try:
            with _translated(self.config.container):
                await box.get_container_properties()
        except ObjectNotFound as exc:
            raise StorageUnavailable(f"container {self.config.container!r} does not exist") from exc

    def local_path(self, key: str) -> Path | None:
        return None

    # -- writing --
    async def put_stream(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        blob = await self._blob(key)
        part_bytes = self.config.part_bytes
        upload_id = uuid.uuid4().hex
        blocks: list[BlobBlock] = []
        buf = bytearray()
        size = 0
        # Errors of the source pass through unchanged; only the service's are translated.
        async for chunk in chunks:
            buf += chunk
            size += len(chunk)
            while len(buf) >= part_bytes:
                data = bytes(buf[:part_bytes])
                del buf[:part_bytes]
                blocks.append(await self._stage(blob, upload_id, len(blocks) + 1, data))
        with _translated(key):
            if not blocks:
                await blob.upload_blob(bytes(buf), overwrite=True)
                return size
            if buf:
                blocks.append(await self._stage(blob, upload_id, len(blocks) + 1, bytes(buf)))
            # Uncommitted blocks of an interrupted upload are never visible under the key
            # and the service drops them after a week.
            await blob.commit_block_list(blocks)
        return size

    async def _stage(self, blob: BlobClient, upload_id: str, n: int, data: bytes) -> BlobBlock:
        bid = block_id(upload_id, n)
        with _translated(blob.blob_name):
            await blob.stage_block(bid, data, length=len(data))
        return BlobBlock(block_id=bid)

    async def put_file(self, key: str, path: Path) -> int:
        async def chunks() -> AsyncIterator[bytes]:
            async with await anyio.open_file(path, "rb") as f:
                while chunk := await f.read(1024 * 1024):
                    yield chunk

        return await self.put_stream(key, chunks())

    async def put_bytes(self, key: str, data: bytes) -> int:
        blob = await self._blob(key)
        with _translated(key):
            await blob.upload_blob(data, overwrite=True)
        return len(data)

    async def compose(self, key: str, sources: list[str]) -> int:
        if not sources:
            raise ObjectNotFound(key)
        return await compose_by_copy(self, key, sources)

    # -- reading --
    async def get_bytes(self, key: str) -> bytes:
        blob = await self._blob(key)
        with _translated(key):
            downloader = await blob.download_blob()
            return await downloader.readall()

    async def iter_range(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        blob = await self._blob(key)
        length = None if end is None else end - start + 1
        with _translated(key):
            if start or length is not None:
                downloader = await blob.download_blob(offset=start, length=length)
            else:
                downloader = await blob.download_blob()
            async for chunk in downloader.chunks():
                yield chunk

    async def stat(self, key: str) -> ObjectInfo:
        blob = await self._blob(key)
        with _translated(key):
            props = await blob.get_blob_properties()
        return ObjectInfo(key=key, size=int(props.size), etag=props.etag)

    def local_copy(self, key: str) -> AbstractAsyncContextManager[Path]:
        return download_to_temp(self, key, self.config.tmp_dir)

    # -- removing --
    async def delete(self, key: str) -> None:
        blob = await self._blob(key)
        with _translated(key), suppress(ResourceNotFoundError):
            await blob.delete_blob()

    async def delete_prefix(self, prefix: str) -> int:
        base = check_key(prefix.rstrip("/"))
        box = await self._box()
        names: list[str] = []
        with _translated(prefix):
            async for item in box.list_blobs(name_starts_with=base + "/"):
                names.append(item.name)
        for name in names:
            await self.delete(name)
        if await self.exists(base):
            await self.delete(base)
            names.append(base)
        return len(names)

    async def delete_page(self, prefix: str, limit: int) -> int:
        base = check_key(prefix.rstrip("/")) + "/"
        box = await self._box()
        names: list[str] = []
        with _translated(prefix):
            # Blobs with staged blocks only (an unfinished multipart) are listed too.
            pages = box.list_blobs(
                name_starts_with=base, include=["uncommittedblobs"], results_per_page=limit
            ).by_page()
            async for page in pages:
                async for item in page:
                    names.append(item.name)
                break
        names = names[:limit]
        for i in range(0, len(names), DELETE_CONCURRENCY):
            await asyncio.gather(*(self._drop(n) for n in names[i : i + DELETE_CONCURRENCY]))
        return len(names)

    async def _drop(self, name: str) -> None:
        blob = await self._blob(name)
        with _translated(name):
            try:
                await blob.delete_blob()
            except ResourceNotFoundError:
                # Only uncommitted blocks: committing an empty list discards them,
                # leaving an empty blob that can be deleted.
                await blob.commit_block_list([])
                with suppress(ResourceNotFoundError):
                    await blob.delete_blob()

    # -- presigned requests --
    def _sas_url(
        self,
        key: str,
        permission: BlobSasPermissions,
        expires_in: int,
        content_type: str | None = None,
    ) -> str:
        sas = generate_blob_sas(
            content_type=content_type,
            account_name=self.config.account_name,
            container_name=self.config.container,
            blob_name=key,
            account_key=self.config.account_key,
            permission=permission,
            expiry=datetime.now(UTC) + timedelta(seconds=expires_in),
        )
        return f"{self.config.url.rstrip('/')}/{self.config.container}/{key}?{sas}"

    async def presign_put(
        self, key: str, *, expires_in: int, content_type: str | None = None
    ) -> PresignedRequest:
        url = self._sas_url(check_key(key), BlobSasPermissions(create=True, write=True), expires_in)
        return PresignedRequest("PUT", url, dict(BLOB_TYPE_HEADER))

    async def presign_get(
        self, key: str, *, expires_in: int, content_type: str | None = None
    ) -> str:
        permission = BlobSasPermissions(read=True)
        return self._sas_url(check_key(key), permission, expires_in, content_type)

    async def create_multipart(self, key: str, *, content_type: str | None = None) -> str:
        check_key(key)
        # Blocks are staged against the blob name; the id only keeps two uploads apart.
        return uuid.uuid4().hex[:16]

    async def presign_part(
        self, key: str, upload_id: str, part_number: int, *, expires_in: int
    ) -> PresignedRequest:
        url = self._sas_url(check_key(key), BlobSasPermissions(write=True), expires_in)
        # Put Block takes the base64 block id, percent-encoded in the query.
        bid = quote(base64.b64encode(block_id(upload_id, part_number).encode()).decode(), safe="")
        return PresignedRequest("PUT", f"{url}&comp=block&blockid={bid}")

    async def complete_multipart(self, key: str, upload_id: str, part_count: int) -> int:
        blob = await self._blob(key)
        wanted = [block_id(upload_id, n) for n in range(1, part_count + 1)]
        with _translated(key):
            try:
                _, uncommitted = await blob.get_block_list("uncommitted")
            except ResourceNotFoundError:
                uncommitted = []
            staged = {b.id for b in uncommitted}
            missing = [n + 1 for n, bid in enumerate(wanted) if bid not in staged]
            if missing or part_count < 1:
                raise UploadIncomplete(f"parts missing: {missing[:10]}")
            await blob.commit_block_list([BlobBlock(block_id=bid) for bid in wanted])
        return (await self.stat(key)).size

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        # Uncommitted blocks cannot be deleted one by one; the service drops them.
        check_key(key)
