"""Object storage seam. Keys are '/'-separated relative paths; backends translate
vendor errors into this tree:

    StorageError
      ├── ObjectNotFound      the key does not exist
      ├── InvalidKey          the key would escape the store (.., absolute, empty part)
      ├── UploadIncomplete    a multipart upload is missing parts, or has none
      ├── NotSupported        the backend cannot do this (e.g. presign on local disk)
      └── StorageUnavailable  the backend cannot be reached or refused the operation

Remote backends never block the event loop and never hold a whole object in memory:
writes go out in parts of `part_bytes`, reads come in chunks.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import anyio
import anyio.to_thread


class StorageError(Exception):
    pass


class ObjectNotFound(StorageError):
    pass


class InvalidKey(StorageError):
    pass


class StorageUnavailable(StorageError):
    pass


class UploadIncomplete(StorageError):
    pass


class NotSupported(StorageError):
    pass


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    # The store's entity tag, as it gives it (quoted or not), when it has one.
    etag: str | None = None


@dataclass(frozen=True)
class PresignedRequest:
    """An HTTP request a client may send straight to the storage service."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


class StatExists:
    """`exists` in terms of `stat`, for backends with no cheaper check."""

    async def stat(self, key: str) -> ObjectInfo:
        raise NotImplementedError

    async def exists(self, key: str) -> bool:
        try:
            await self.stat(key)
        except ObjectNotFound:
            return False
        return True


def check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InvalidKey(f"invalid object key: {key!r}")
    if "\\" in key or "\x00" in key:
        raise InvalidKey(f"invalid object key: {key!r}")
    return key


class ObjectStorage(Protocol):
    name: str
    # True when clients can upload and download directly with presigned requests.
    presigns: bool
    # Whether a presigned GET honours a suffix range (`bytes=-N`); Azure Blob does not.
    suffix_ranges: bool

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        """Store the chunks under key (replacing it); return the size. On error nothing
        is left under key."""
        ...

    async def put_file(self, key: str, path: Path) -> int: ...

    async def put_bytes(self, key: str, data: bytes) -> int: ...

    async def get_bytes(self, key: str) -> bytes: ...

    def iter_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes start..end (inclusive) of the object, in chunks."""
        ...

    async def stat(self, key: str) -> ObjectInfo: ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Remove key; a missing key is not an error."""
        ...

    async def delete_prefix(self, prefix: str) -> int: ...

    async def delete_page(self, prefix: str, limit: int) -> int:
        """Remove up to `limit` objects under `prefix/` (with unfinished multipart
        uploads and uncommitted blobs there); return how many went. Each call starts
        from what is left, so a purge resumes by calling again; 0 means none is left."""
        ...

    def local_copy(self, key: str) -> AbstractAsyncContextManager[Path]:
        """A path on local disk holding the object for the duration of the block
        (the object itself for local storage, a temporary download otherwise)."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The object's own path when the backend is a local directory (for sendfile)."""
        ...

    async def check(self) -> None:
        """Raise StorageUnavailable when the backend cannot be used."""
        ...

    async def close(self) -> None: ...

    async def compose(self, key: str, sources: list[str]) -> int:
        """Store the concatenation of the source objects under key and remove the
        sources; return the size."""
        ...

    async def presign_put(
        self, key: str, *, expires_in: int, content_type: str | None = None
    ) -> PresignedRequest:
        """A PUT that stores one whole object under key (NotSupported on local disk)."""
        ...

    async def presign_get(
        self, key: str, *, expires_in: int, content_type: str | None = None
    ) -> str:
        """A GET URL for the object, honouring Range (NotSupported on local disk); the
        store answers it with content_type when given, whatever the object was stored as."""
        ...

    async def create_multipart(self, key: str, *, content_type: str | None = None) -> str:
        """Start a multipart upload to key; return its upload id."""
        ...

    async def presign_part(
        self, key: str, upload_id: str, part_number: int, *, expires_in: int
    ) -> PresignedRequest:
        """A PUT for part part_number (1-based) of a multipart upload."""
        ...

    async def complete_multipart(self, key: str, upload_id: str, part_count: int) -> int:
        """Join parts 1..part_count into the object; UploadIncomplete when any is missing.
        Returns the object's size."""
        ...

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        """Drop a multipart upload's parts; unknown uploads are not an error."""
        ...


async def upload_directory(storage: ObjectStorage, directory: Path, prefix: str) -> int:
    """Store every file under directory at prefix/<relative path>; return the file count."""
    files = await anyio.to_thread.run_sync(
        lambda: sorted(p for p in directory.rglob("*") if p.is_file())
    )
    for path in files:
        await storage.put_file(
            f"{prefix.rstrip('/')}/{path.relative_to(directory).as_posix()}", path
        )
    return len(files)


async def chain_objects(storage: ObjectStorage, keys: list[str]) -> AsyncIterator[bytes]:
    for key in keys:
        async for chunk in storage.iter_range(key):
            yield chunk


async def compose_by_copy(storage: ObjectStorage, key: str, sources: list[str]) -> int:
    """compose() for backends without a server-side concatenation: stream the sources
    through this process into key (bounded memory), then remove them."""
    size = await storage.put_stream(key, chain_objects(storage, sources))
    for source in sources:
        await storage.delete(source)
    return size


@asynccontextmanager
async def download_to_temp(
    storage: ObjectStorage, key: str, tmp_dir: Path | None
) -> AsyncIterator[Path]:
    """local_copy() for remote backends: stream the object into a temporary file that
    is removed when the block ends."""
    directory = tmp_dir or Path(tempfile.gettempdir())
    await anyio.to_thread.run_sync(lambda: directory.mkdir(parents=True, exist_ok=True))
    path = directory / f"download-{uuid.uuid4().hex}{os.path.splitext(key)[1]}"
    try:
        async with await anyio.open_file(path, "wb") as f:
            async for chunk in storage.iter_range(key):
                await f.write(chunk)
        yield path
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))
