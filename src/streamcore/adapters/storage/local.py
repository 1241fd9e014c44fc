"""Local directory storage (embedded mode). Writes go to a temporary file renamed
into place, so a crash never leaves a half-written object under its key."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread

from streamcore.adapters.storage.base import (
    NotSupported,
    ObjectInfo,
    ObjectNotFound,
    PresignedRequest,
    StatExists,
    StorageUnavailable,
    check_key,
)

READ_CHUNK = 256 * 1024
WRITE_CHUNK = 1024 * 1024


class LocalStorage(StatExists):
    name = "local"
    # Clients upload through the API itself (an HMAC-signed URL); see uploads.presign.
    presigns = False
    suffix_ranges = True

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    async def close(self) -> None:
        return None

    async def check(self) -> None:
        try:
            await anyio.to_thread.run_sync(self._check_sync)
        except OSError as exc:
            raise StorageUnavailable(f"local storage at {self.root}: {exc}") from exc

    def _check_sync(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        probe = self.root / f".probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        # Only our own disk errors are StorageUnavailable; whatever the source raises
        # (a client that went away) goes through unchanged.
        try:
            try:
                await anyio.to_thread.run_sync(
                    lambda: path.parent.mkdir(parents=True, exist_ok=True)
                )
                f = await anyio.open_file(tmp, "wb")
            except OSError as exc:
                raise StorageUnavailable(str(exc)) from exc
            size = 0
            # Request bodies arrive in ~64 KiB pieces; writing them in WRITE_CHUNK
            # batches saves most of the thread hops.
            pending = bytearray()
            async with f:
                async for chunk in chunks:
                    pending += chunk
                    size += len(chunk)
                    if len(pending) >= WRITE_CHUNK:
                        await self._write(f, pending)
                        pending = bytearray()
                if pending:
                    await self._write(f, pending)
            try:
                await anyio.to_thread.run_sync(os.replace, tmp, path)
            except OSError as exc:
                raise StorageUnavailable(str(exc)) from exc
            return size
        except BaseException:
            # Nothing of a refused or failed write stays, not even its directory.
            def discard() -> None:
                tmp.unlink(missing_ok=True)
                self._prune(path.parent)

            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(discard)
            raise

    @staticmethod
    async def _write(f: anyio.AsyncFile[bytes], data: bytearray) -> None:
        try:
            await f.write(data)
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def put_file(self, key: str, path: Path) -> int:
        dest = self._path(key)

        def copy() -> int:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
            try:
                # A finished file of the same disk (a job's output) is linked, not
                # copied: publishing a ladder costs no I/O. The caller must not write to
                # path afterwards (job outputs are complete when stored).
                try:
                    os.link(path, tmp)
                except OSError:
                    shutil.copyfile(path, tmp)
                os.replace(tmp, dest)
            finally:
                tmp.unlink(missing_ok=True)
            return dest.stat().st_size

        try:
            return await anyio.to_thread.run_sync(copy)
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def put_bytes(self, key: str, data: bytes) -> int:
        async def one() -> AsyncIterator[bytes]:
            yield data

        return await self.put_stream(key, one())

    async def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await anyio.to_thread.run_sync(path.read_bytes)
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def iter_range(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            f = await anyio.open_file(path, "rb")
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc
        async with f:
            await f.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                n = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
                chunk = await f.read(n)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    async def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        try:
            st = await anyio.to_thread.run_sync(path.stat)
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc
        if not path.is_file():
            raise ObjectNotFound(key)
        return ObjectInfo(key=key, size=st.st_size)

    async def delete(self, key: str) -> None:
        path = self._path(key)

        def remove() -> None:
            path.unlink(missing_ok=True)
            self._prune(path.parent)

        await anyio.to_thread.run_sync(remove)

    def _prune(self, directory: Path) -> None:
        """Remove directories left empty, up to (not including) the root."""
        while directory != self.root and self.root in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent

    async def delete_prefix(self, prefix: str) -> int:
        base = self._path(prefix.rstrip("/"))

        def remove() -> int:
            if base.is_file():
                base.unlink()
                return 1
            if not base.exists():
                return 0
            count = sum(1 for p in base.rglob("*") if p.is_file())
            shutil.rmtree(base, ignore_errors=True)
            self._prune(base.parent)
            return count

        return await anyio.to_thread.run_sync(remove)

    async def delete_page(self, prefix: str, limit: int) -> int:
        base = self._path(prefix.rstrip("/"))

        def remove() -> int:
            if not base.is_dir():
                return 0
            files: list[Path] = []
            for path in base.rglob("*"):
                if path.is_file() or path.is_symlink():
                    files.append(path)
                    if len(files) >= limit:
                        break
            for path in files:
                path.unlink(missing_ok=True)
            if not files:
                # Only empty folders are left (tmp files of writes count as files).
                shutil.rmtree(base, ignore_errors=True)
                self._prune(base.parent)
            return len(files)

        return await anyio.to_thread.run_sync(remove)

    @asynccontextmanager
    async def local_copy(self, key: str) -> AsyncIterator[Path]:
        path = self._path(key)
        if not await anyio.to_thread.run_sync(path.is_file):
            raise ObjectNotFound(key)
        yield path

    async def compose(self, key: str, sources: list[str]) -> int:
        """The first source is renamed into place and the others appended to it, so a
        tus upload sent in one request costs no copy at all."""
        if not sources:
            raise ObjectNotFound(key)
        dest = self._path(key)
        paths = [self._path(s) for s in sources]

        def join() -> int:
            first = paths[0]
            tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(first, tmp)
            except FileNotFoundError as exc:
                raise ObjectNotFound(sources[0]) from exc
            first_size = tmp.stat().st_size
            try:
                with open(tmp, "ab") as out:
                    for path in paths[1:]:
                        with open(path, "rb") as src:
                            shutil.copyfileobj(src, out, READ_CHUNK * 4)
                os.replace(tmp, dest)
            except BaseException:
                # Give the first chunk back as it was, so a retry finds every source.
                os.truncate(tmp, first_size)
                os.replace(tmp, first)
                raise
            for path in paths[1:]:
                path.unlink(missing_ok=True)
            for path in paths:
                self._prune(path.parent)
            return dest.stat().st_size

        try:
            return await anyio.to_thread.run_sync(join)
        except FileNotFoundError as exc:
            raise ObjectNotFound(str(exc.filename)) from exc
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def presign_put(
        self, key: str, *, expires_in: int, content_type: str | None = None
    ) -> PresignedRequest:
        raise NotSupported("local storage has no presigned URLs")

    async def presign_get(
        self, key: str, *, expires_in: int, content_type: str | None = None
    ) -> str:
        raise NotSupported("local storage has no presigned URLs")

    async def create_multipart(self, key: str, *, content_type: str | None = None) -> str:
        raise NotSupported("local storage has no multipart uploads")

    async def presign_part(
        self, key: str, upload_id: str, part_number: int, *, expires_in: int
    ) -> PresignedRequest:
        raise NotSupported("local storage has no multipart uploads")

    async def complete_multipart(self, key: str, upload_id: str, part_count: int) -> int:
        raise NotSupported("local storage has no multipart uploads")

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        raise NotSupported("local storage has no multipart uploads")
