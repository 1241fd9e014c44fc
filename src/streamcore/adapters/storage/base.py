"""Object storage seam. Keys are '/'-separated relative paths; backends translate
vendor errors into this tree:

    StorageError
      ├── ObjectNotFound      the key does not exist
      ├── InvalidKey          the key would escape the store (.., absolute, empty part)
      └── StorageUnavailable  the backend cannot be reached or refused the operation
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio.to_thread


class StorageError(Exception):
    pass


class ObjectNotFound(StorageError):
    pass


class InvalidKey(StorageError):
    pass


class StorageUnavailable(StorageError):
    pass


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


def check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InvalidKey(f"invalid object key: {key!r}")
    if "\\" in key or "\x00" in key:
        raise InvalidKey(f"invalid object key: {key!r}")
    return key


class ObjectStorage(Protocol):
    name: str

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
