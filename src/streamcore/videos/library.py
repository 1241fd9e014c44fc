"""The video library: listing with an opaque keyset cursor, and the customer's own
fields of a video (title, description, external_id, passthrough, metadata)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.db.cursor import decode_cursor, encode_cursor
from streamcore.errors import BadRequest, Conflict
from streamcore.models import Asset, AssetStatus
from streamcore.videos import lifecycle
from streamcore.videos.repository import LibraryRepository, VideoQuery
from streamcore.videos.schemas import VideoDescription

__all__ = ["GONE", "MAX_PAGE", "Page", "VideoQuery", "list_videos", "update_video"]

MAX_PAGE = 100
DEFAULT_PAGE = 25
GONE = frozenset({AssetStatus.deleting, AssetStatus.deleted})


@dataclass(frozen=True)
class Page:
    assets: Sequence[Asset]
    next_cursor: str | None


async def list_videos(
    session: AsyncSession, query: VideoQuery, *, cursor: str | None, limit: int
) -> Page:
    """One page, newest first. The cursor is a position, not an offset: videos added
    during a walk come before it and never shift what follows."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    after = decode_cursor(cursor) if cursor else None
    rows = await LibraryRepository(session).page(query, after, limit + 1)
    assets, more = rows[:limit], len(rows) > limit
    last = assets[-1] if more else None
    return Page(assets, encode_cursor(last.created_at, last.id) if last else None)


def parse_description(fields: dict[str, str]) -> VideoDescription:
    """The description in form fields or tus Upload-Metadata; BadRequest with the
    reason when a field is invalid (an oversized metadata map, a bad passthrough ...)."""
    try:
        return VideoDescription.from_strings(fields)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise BadRequest(f"invalid video description: {reasons}") from exc
    except ValueError as exc:
        raise BadRequest(f"invalid video description: {exc}") from exc


def described(description: VideoDescription | None) -> dict[str, object]:
    """Asset fields of a description given at creation."""
    fields = description.model_dump(exclude_none=True) if description else {}
    if "metadata" in fields:
        fields["user_metadata"] = fields.pop("metadata")
    return fields


def _apply(asset: Asset, fields: dict[str, object]) -> None:
    for name, value in fields.items():
        if name == "metadata":
            asset.user_metadata = dict(value or {})  # type: ignore[call-overload]
        else:
            setattr(asset, name, value)


@asynccontextmanager
async def unique_external_id(
    session: AsyncSession, project_id: str, external_id: str | None, asset_id: str | None = None
) -> AsyncIterator[None]:
    """Write (and flush) inside the block in a savepoint: a duplicate external_id in
    the project is a 409. The unique index decides, so two concurrent writers cannot
    both win; the check before it gives the common case its clear message at once."""
    taken = Conflict(f"external_id {external_id!r} is taken by another video of the project")
    if external_id is not None:
        owner = await LibraryRepository(session).external_id_owner(project_id, external_id)
        if owner is not None and owner != asset_id:
            raise taken
    try:
        async with session.begin_nested():
            yield
            await session.flush()
    except IntegrityError as exc:
        if external_id is not None:
            raise taken from exc
        raise


async def update_video(session: AsyncSession, asset: Asset, update: VideoDescription) -> Asset:
    """PATCH: replace the fields sent; video.updated when anything changed."""
    if asset.status in GONE:
        raise Conflict(f"the video is {asset.status.value}; it cannot be changed")
    fields = update.model_dump(include=update.model_fields_set)
    before = {name: _current(asset, name) for name in fields}
    external_id = fields.get("external_id")
    async with unique_external_id(
        session, asset.project_id, external_id if isinstance(external_id, str) else None, asset.id
    ):
        _apply(asset, fields)
    if any(_current(asset, name) != before[name] for name in fields):
        await lifecycle.record_update(session, asset)
        await session.flush()
    return asset


def _current(asset: Asset, name: str) -> object:
    return (asset.user_metadata or {}) if name == "metadata" else getattr(asset, name)
