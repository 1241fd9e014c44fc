"""The pages and their static assets. Nothing here is part of the API: the pages use
the public HTTP API and Socket.IO like any integrator."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from streamcore.web import console, docs, embed

STATIC = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/console", status_code=307)


def mount(app: FastAPI) -> None:
    """The pages' routes and /static (our own scripts and the vendored libraries)."""
    app.include_router(router)
    app.include_router(console.router)
    app.include_router(docs.router)
    app.include_router(embed.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
