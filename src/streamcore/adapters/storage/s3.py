"""S3-compatible storage (AWS S3, MinIO, SeaweedFS) through aiobotocore: every call is
async, writes go out as multipart uploads in bounded parts, botocore errors become the
seam's error tree."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import anyio
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

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

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

READ_CHUNK = 256 * 1024
_NOT_FOUND = {"NoSuchKey", "404", "NotFound", "NoSuchUpload"}


@dataclass(frozen=True)
class S3Config:
    bucket: str
    endpoint_url: str | None = None
    public_endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    addressing_style: str = "path"
    create_bucket: bool = False
    part_bytes: int = 8 * 1024 * 1024
    tmp_dir: Path | None = None
    retries: int = 2


@contextmanager
def _translated(key: str) -> Iterator[None]:
    try:
        yield
    except StorageError:
        raise
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _NOT_FOUND or (status == 404 and code != "NoSuchBucket"):
            raise ObjectNotFound(key) from exc
        raise StorageUnavailable(f"S3 refused the request: {code or status}") from exc
    except (TimeoutError, BotoCoreError, aiohttp.ClientError, OSError) as exc:
        raise StorageUnavailable(f"S3 is unreachable: {type(exc).__name__}") from exc


class S3Storage(StatExists):
    name = "s3"
    presigns = True
    suffix_ranges = True

    def __init__(self, config: S3Config) -> None:
        self.config = config
        self.bucket = config.bucket
        self._stack: AsyncExitStack | None = None
        self._client: S3Client | None = None
        self._presigner: S3Client | None = None
        self._lock = asyncio.Lock()

    def _aio_config(self) -> AioConfig:
        return AioConfig(
            signature_version="s3v4",
            s3={"addressing_style": self.config.addressing_style},
            retries={"max_attempts": self.config.retries + 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            max_pool_connections=32,
        )

    async def _new_client(self, stack: AsyncExitStack, endpoint: str | None) -> S3Client:
        client: S3Client = await stack.enter_async_context(
            get_session().create_client(
                "s3",
                endpoint_url=endpoint or None,
                region_name=self.config.region,
                aws_access_key_id=self.config.access_key_id or None,
                aws_secret_access_key=self.config.secret_access_key or None,
                config=self._aio_config(),
            )
        )
        return client

    async def _s3(self) -> S3Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                stack = AsyncExitStack()
                try:
                    client = await self._new_client(stack, self.config.endpoint_url)
                    public = self.config.public_endpoint_url
                    presigner = await self._new_client(stack, public) if public else client
                    if self.config.create_bucket:
                        await self._ensure_bucket(client)
                except BaseException:
                    await stack.aclose()
                    raise
                self._stack, self._presigner, self._client = stack, presigner, client
        return self._client

    async def _ensure_bucket(self, client: S3Client) -> None:
        with _translated(self.bucket):
            try:
                await client.head_bucket(Bucket=self.bucket)
            except ClientError:
                await client.create_bucket(Bucket=self.bucket)

    async def close(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
        self._stack = self._client = self._presigner = None

    async def check(self) -> None:
        s3 = await self._s3()
        with _translated(self.bucket):
            try:
                await s3.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if status == 404:
                    raise StorageUnavailable(f"bucket {self.bucket!r} does not exist") from exc
                if status == 403:
                    raise StorageUnavailable(
                        f"access to bucket {self.bucket!r} denied: check the access key"
                    ) from exc
                raise StorageUnavailable(f"bucket {self.bucket!r} is not usable") from exc

    def local_path(self, key: str) -> Path | None:
        return None

    # -- writing --
    async def put_stream(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        check_key(key)
        s3 = await self._s3()
        part_bytes = self.config.part_bytes
        buf = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        size = 0
        try:
            # Errors of the source pass through unchanged; only S3's are translated.
            async for chunk in chunks:
                buf += chunk
                size += len(chunk)
                while len(buf) >= part_bytes:
                    if upload_id is None:
                        upload_id = await self.create_multipart(key)
                    data = bytes(buf[:part_bytes])
                    del buf[:part_bytes]
                    parts.append(await self._upload_part(s3, key, upload_id, len(parts), data))
            with _translated(key):
                if upload_id is None:
                    await s3.put_object(Bucket=self.bucket, Key=key, Body=bytes(buf))
                    return size
                if buf or not parts:
                    last = bytes(buf)
                    parts.append(await self._upload_part(s3, key, upload_id, len(parts), last))
                await s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
                )
                return size
        except BaseException:
            if upload_id is not None:
                with anyio.CancelScope(shield=True):
                    await self._abort_quietly(key, upload_id)
            raise

    async def _upload_part(
        self, s3: S3Client, key: str, upload_id: str, index: int, data: bytes
    ) -> dict[str, Any]:
        with _translated(key):
            resp = await s3.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=index + 1, Body=data
            )
        return {"PartNumber": index + 1, "ETag": resp["ETag"]}

    async def _abort_quietly(self, key: str, upload_id: str) -> None:
        with suppress(StorageError):
            await self.abort_multipart(key, upload_id)

    async def put_file(self, key: str, path: Path) -> int:
        async def chunks() -> AsyncIterator[bytes]:
            async with await anyio.open_file(path, "rb") as f:
                while chunk := await f.read(1024 * 1024):
                    yield chunk

        return await self.put_stream(key, chunks())

    async def put_bytes(self, key: str, data: bytes) -> int:
        check_key(key)
        s3 = await self._s3()
        with _translated(key):
            await s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        return len(data)

    async def compose(self, key: str, sources: list[str]) -> int:
        if not sources:
            raise ObjectNotFound(key)
        return await compose_by_copy(self, key, sources)

    # -- reading --
    async def get_bytes(self, key: str) -> bytes:
        check_key(key)
        s3 = await self._s3()
        with _translated(key):
            resp = await s3.get_object(Bucket=self.bucket, Key=key)
            async with resp["Body"] as body:
                data: bytes = await body.read()
                return data

    async def iter_range(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        check_key(key)
        s3 = await self._s3()
        kwargs: dict[str, Any] = {}
        # An open range from 0 is the whole object; asking for it explicitly fails on
        # an empty object (InvalidRange).
        if start or end is not None:
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end}"
        with _translated(key):
            resp = await s3.get_object(Bucket=self.bucket, Key=key, **kwargs)
            async with resp["Body"] as body:
                async for chunk in body.iter_chunks(READ_CHUNK):
                    yield chunk

    async def stat(self, key: str) -> ObjectInfo:
        check_key(key)
        s3 = await self._s3()
        with _translated(key):
            head = await s3.head_object(Bucket=self.bucket, Key=key)
        return ObjectInfo(key=key, size=int(head["ContentLength"]), etag=head.get("ETag"))

    def local_copy(self, key: str) -> AbstractAsyncContextManager[Path]:
        return download_to_temp(self, key, self.config.tmp_dir)

    # -- removing --
    async def delete(self, key: str) -> None:
        check_key(key)
        s3 = await self._s3()
        with _translated(key):
            await s3.delete_object(Bucket=self.bucket, Key=key)

    async def delete_prefix(self, prefix: str) -> int:
        base = check_key(prefix.rstrip("/"))
        s3 = await self._s3()
        count = 0
        with _translated(prefix):
            paginator = s3.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=base + "/"):
                keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
                if keys:
                    await s3.delete_objects(
                        Bucket=self.bucket,
                        Delete={"Objects": keys, "Quiet": True},  # type: ignore[typeddict-item]
                    )
                    count += len(keys)
        if await self.exists(base):
            await self.delete(base)
            count += 1
        return count

    async def delete_page(self, prefix: str, limit: int) -> int:
        base = check_key(prefix.rstrip("/")) + "/"
        s3 = await self._s3()
        limit = max(1, min(limit, 1000))  # DeleteObjects takes at most 1000 keys
        with _translated(prefix):
            listed = await s3.list_objects_v2(Bucket=self.bucket, Prefix=base, MaxKeys=limit)
            keys = [{"Key": obj["Key"]} for obj in listed.get("Contents", [])]
            if keys:
                await s3.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": keys, "Quiet": True},  # type: ignore[typeddict-item]
                )
                return len(keys)
            # Parts of unfinished multipart uploads are invisible to listings but stored.
            pending = await s3.list_multipart_uploads(
                Bucket=self.bucket, Prefix=base, MaxUploads=limit
            )
            uploads = pending.get("Uploads", [])
        for upload in uploads:
            await self.abort_multipart(upload["Key"], upload["UploadId"])
        return len(uploads)

    # -- presigned requests --
    async def _presign(self, method: str, params: dict[str, Any], expires_in: int) -> str:
        await self._s3()
        assert self._presigner is not None
        with _translated(str(params.get("Key", ""))):
            url: str = await self._presigner.generate_presigned_url(
                method, Params={"Bucket": self.bucket, **params}, ExpiresIn=expires_in
            )
        return url

    async def presign_put(
        self, key: str, *, expires_in: int, content_type: str | None = None
    ) -> PresignedRequest:
        check_key(key)
        url = await self._presign("put_object", {"Key": key}, expires_in)
        return PresignedRequest("PUT", url)

    async def presign_get(
        self, key: str, *, expires_in: int, content_type: str | None = None
    ) -> str:
        check_key(key)
        params = {"Key": key, **({"ResponseContentType": content_type} if content_type else {})}
        return await self._presign("get_object", params, expires_in)

    async def create_multipart(self, key: str, *, content_type: str | None = None) -> str:
        check_key(key)
        s3 = await self._s3()
        with _translated(key):
            created = await s3.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type or "binary/octet-stream"
            )
        return created["UploadId"]

    async def presign_part(
        self, key: str, upload_id: str, part_number: int, *, expires_in: int
    ) -> PresignedRequest:
        params = {"Key": check_key(key), "UploadId": upload_id, "PartNumber": part_number}
        return PresignedRequest("PUT", await self._presign("upload_part", params, expires_in))

    async def complete_multipart(self, key: str, upload_id: str, part_count: int) -> int:
        check_key(key)
        s3 = await self._s3()
        etags: dict[int, str] = {}
        with _translated(key):
            paginator = s3.get_paginator("list_parts")
            try:
                async for page in paginator.paginate(
                    Bucket=self.bucket, Key=key, UploadId=upload_id
                ):
                    for part in page.get("Parts", []):
                        etags[int(part["PartNumber"])] = part["ETag"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
                    raise UploadIncomplete("the multipart upload does not exist") from exc
                raise
            missing = [n for n in range(1, part_count + 1) if n not in etags]
            if missing or part_count < 1:
                raise UploadIncomplete(f"parts missing: {missing[:10]}")
            parts = [{"PartNumber": n, "ETag": etags[n]} for n in range(1, part_count + 1)]
            try:
                await s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
                )
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code in ("EntityTooSmall", "InvalidPart", "InvalidPartOrder"):
                    raise UploadIncomplete(f"S3 refused the parts: {code}") from exc
                raise
        return (await self.stat(key)).size

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        s3 = await self._s3()
        with _translated(key):
            try:
                await s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                    raise
