"""One size limit and one quota check for every way in: multipart form, presigned
upload, tus, URL import and recording takes.

`allowance()` is asked once per upload, before any byte is accepted; it is the
smaller of `upload.max_bytes` and what is left of the project's quota
(`upload.project_quota_bytes`, 0 = none). A declared size is checked at once; bytes
whose size is only known as they arrive go through `Allowance.cap`, which stops the
stream the moment it passes the limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.errors import PayloadTooLarge
from streamcore.infra import Infra
from streamcore.videos import service as videos


class QuotaExceeded(PayloadTooLarge):
    detail = "the upload would exceed the project's storage quota"


@dataclass(frozen=True)
class Allowance:
    """How many bytes one upload may hold, and which error says it does not fit."""

    limit: int
    by_quota: bool = False

    def error(self) -> PayloadTooLarge:
        if self.by_quota:
            return QuotaExceeded()
        return PayloadTooLarge(f"upload exceeds the limit of {self.limit} bytes")

    def check(self, size: int) -> None:
        if size > self.limit:
            raise self.error()

    async def cap(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """chunks, raising the allowance's error as soon as they pass the limit."""
        received = 0
        async for chunk in chunks:
            received += len(chunk)
            if received > self.limit:
                raise self.error()
            yield chunk


async def allowance(
    infra: Infra, session: AsyncSession, project_id: str, declared: int | None = None
) -> Allowance:
    """The allowance of a new upload to project_id; raises at once when the declared
    size does not fit (or the quota is used up)."""
    settings = infra.settings.upload
    result = Allowance(settings.max_bytes)
    if settings.project_quota_bytes:
        left = settings.project_quota_bytes - await videos.bytes_used(session, project_id)
        if left < result.limit:
            result = Allowance(max(0, left), by_quota=True)
        if left <= 0:
            raise result.error()
    if declared is not None:
        result.check(declared)
    return result
