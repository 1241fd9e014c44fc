from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from streamcore.deps import InfraDep

router = APIRouter(tags=["operations"])


@router.get("/health")
async def health(infra: InfraDep) -> JSONResponse:
    """Liveness and readiness: checks the database, object storage and the job bus."""
    checks: dict[str, Any] = {}
    ok = True
    try:
        async with infra.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        ok = False
        checks["database"] = f"error: {type(exc).__name__}"
    for name, check in (("storage", infra.storage.check), ("bus", infra.bus.check)):
        try:
            await check()
            checks[name] = "ok"
        except Exception as exc:
            ok = False
            checks[name] = f"error: {type(exc).__name__}"
    body = {
        "status": "ok" if ok else "degraded",
        "checks": checks,
        "mode": {
            "database": infra.engine.dialect.name,
            "storage": infra.storage.name,
            "bus": infra.bus.name,
        },
    }
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response)
async def metrics(infra: InfraDep) -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(infra.metrics.registry), media_type=CONTENT_TYPE_LATEST)
