from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streamcore.deps import InfraDep
from streamcore.observability.health import OK, check_dependencies

router = APIRouter(tags=["operations"])


@router.get("/health")
async def health(infra: InfraDep) -> JSONResponse:
    """Liveness and readiness: the database, object storage, the job bus and (when
    configured) Redis, each "ok" or what is wrong with it."""
    checks = await check_dependencies(infra)
    ok = all(state == OK for state in checks.values())
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
