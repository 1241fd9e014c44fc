"""The web console: one page (a single-page app) at /console and every /console/... deep
link. It talks to the public HTTP API and Socket.IO only, as an integrator would."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)

INDEX = Path(__file__).parent / "static" / "console" / "index.html"
# The page is small and changes with each release: always revalidate.
HEADERS = {"Cache-Control": "no-cache", "X-Frame-Options": "DENY"}


@router.get("/console")
@router.get("/console/{path:path}")
async def console(path: str = "") -> FileResponse:
    """The console's page; the client-side router picks the view from the URL."""
    return FileResponse(INDEX, media_type="text/html", headers=HEADERS)
