"""`POST /analytics/events` (player beacons, authenticated by the playback token) and
the reports `GET /analytics`, `GET /analytics/uploads` (access as for the videos)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import status as http
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.analytics import reports
from streamcore.analytics.ingest import BeaconIngest
from streamcore.analytics.schemas import (
    AnalyticsReport,
    BeaconAccepted,
    BeaconBatch,
    GroupBy,
    Interval,
    UploadReport,
)
from streamcore.auth.dependencies import Action, Principal, PrincipalDep, PrincipalKind, authorize
from streamcore.deps import SessionDep
from streamcore.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    error_responses,
)
from streamcore.inputs.times import DateTimeParam
from streamcore.videos import service as videos

router = APIRouter(tags=["analytics"])

MAX_RANGE = timedelta(days=400)
MAX_POINTS = 10_000
DEFAULT_RANGE = timedelta(days=7)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, or its first limit + 1 bytes (which intake refuses as too large)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its $defs put in place (the route declares its body
    by hand: it parses any Content-Type, which a pydantic body parameter would not)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return dict(walk(schema))


_BATCH_SCHEMA = _inlined(BeaconBatch.model_json_schema())
BEACON_BODY = {
    "requestBody": {
        "required": True,
        "description": "JSON (any Content-Type: navigator.sendBeacon sends text/plain).",
        "content": {
            "application/json": {"schema": _BATCH_SCHEMA},
            "text/plain": {"schema": _BATCH_SCHEMA},
        },
    }
}


@router.post(
    "/analytics/events",
    status_code=http.HTTP_202_ACCEPTED,
    response_model=BeaconAccepted,
    responses=error_responses(BadRequest, PayloadTooLarge, TooManyRequests),
    openapi_extra=BEACON_BODY,
)
async def post_events(
    request: Request, token: Annotated[str | None, Query(max_length=1024)] = None
) -> BeaconAccepted:
    """Player beacons: at most 50 events (16 KiB) of one playback, authenticated by
    the video's playback token (in the body or `?token=`). Refused whole with a reason,
    or accepted (202) and written in the background."""
    intake: BeaconIngest = request.app.state.analytics
    limit = intake.infra.settings.analytics.max_body_bytes
    client = request.client.host if request.client else None
    await intake.address_allowed(client)
    raw = await _read_body(request, limit)
    return BeaconAccepted(accepted=await intake.accept(raw, token))


def _range(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """[start, end) in whole UTC hours; naive times are UTC; default the last 7 days."""
    try:
        return _hours(start, end)
    except OverflowError as exc:
        raise BadRequest("`from` / `to` out of range") from exc


def _hours(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    end = _aware(end) if end else datetime.now(UTC)
    start = _aware(start) if start else end - DEFAULT_RANGE
    start = start.replace(minute=0, second=0, microsecond=0)
    if end.minute or end.second or end.microsecond:
        end = end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if end <= start:
        raise BadRequest("`to` must be after `from`")
    if end - start > MAX_RANGE:
        raise BadRequest(f"at most {MAX_RANGE.days} days at once")
    return start, end


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def _scope(
    session: AsyncSession,
    principal: Principal,
    project_id: str | None,
    video_id: str | None,
    start: datetime,
    end: datetime,
) -> reports.Scope:
    """Whose numbers, checked as the videos are: a video's as `GET /videos/{id}`, a
    project's as listing its videos."""
    if project_id and video_id:
        raise BadRequest("give project_id or video_id, not both")
    if video_id:
        asset = await videos.find_asset(session, video_id)
        if asset is None:
            raise NotFound("video not found")
        await authorize(
            session, principal, asset.project_id, Action.read, not_found="video not found"
        )
        return reports.Scope(None, video_id, start, end)
    if project_id is None and principal.kind is PrincipalKind.api_key:
        project_id = principal.project_id
    if not project_id:
        raise BadRequest("project_id or video_id is required")
    await authorize(session, principal, project_id, Action.read)
    return reports.Scope(project_id, None, start, end)


FROM = Query(alias="from", description="Start (inclusive, rounded down to the hour)")
TO = Query(alias="to", description="End (exclusive, rounded up to the hour); default now")
REPORT_ERRORS = error_responses(BadRequest, Unauthorized, Forbidden, NotFound)


@router.get("/analytics", response_model=AnalyticsReport, responses=REPORT_ERRORS)
async def get_analytics(
    session: SessionDep,
    principal: PrincipalDep,
    project_id: str | None = None,
    video_id: str | None = None,
    start: Annotated[DateTimeParam | None, FROM] = None,
    end: Annotated[DateTimeParam | None, TO] = None,
    interval: Interval = Interval.day,
    group_by: GroupBy | None = None,
) -> Any:
    """Views, unique viewers, watch time, startup p50/p95, rebuffer and failure
    percentages and bytes served of a project or a video, from the hourly rollups:
    totals, a series per `interval`, and groups per `group_by`."""
    lo, hi = _range(start, end)
    step = timedelta(hours=1) if interval is Interval.hour else timedelta(days=1)
    if (hi - lo) / step > MAX_POINTS:
        raise BadRequest(f"at most {MAX_POINTS} points: use a longer interval")
    scope = await _scope(session, principal, project_id, video_id, lo, hi)
    series, totals = await reports.series_and_totals(session, scope, interval)
    return AnalyticsReport(
        project_id=scope.project_id,
        video_id=scope.video_id,
        start=lo,
        end=hi,
        interval=interval,
        group_by=group_by,
        totals=totals,
        series=series,
        groups=await reports.groups(session, scope, group_by) if group_by else [],
    )


@router.get("/analytics/uploads", response_model=UploadReport, responses=REPORT_ERRORS)
async def get_upload_analytics(
    session: SessionDep,
    principal: PrincipalDep,
    project_id: str | None = None,
    video_id: str | None = None,
    start: Annotated[DateTimeParam | None, FROM] = None,
    end: Annotated[DateTimeParam | None, TO] = None,
) -> Any:
    """Uploads of a project or a video by method and outcome, bytes received, and
    failures by error class, from the upload log."""
    lo, hi = _range(start, end)
    scope = await _scope(session, principal, project_id, video_id, lo, hi)
    numbers = await reports.uploads(session, scope)
    return UploadReport(
        project_id=scope.project_id,
        video_id=scope.video_id,
        start=lo,
        end=hi,
        uploads=sum(c.uploads for c in numbers.by_method),
        bytes=sum(c.bytes for c in numbers.by_method),
        failures=sum(f.uploads for f in numbers.failures_by_class),
        by_method=numbers.by_method,
        failures_by_class=numbers.failures_by_class,
    )
