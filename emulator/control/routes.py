from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from emulator import __version__

router = APIRouter(prefix="/_emulator", tags=["control"])


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    state = request.app.state
    base = state.runtime.base_url(f"{request.url.scheme}://{request.url.netloc}")
    return {
        "status": "ok",
        "version": __version__,
        "timing": state.settings.timing,
        "seed": state.runtime.ids.seed,
        "surfaces": {
            surface.name: dict(surface.endpoints(base + state.settings.prefix(surface.name)))
            for surface in state.surfaces
        },
        "jobs": len(state.runtime.jobs),
        "artifacts": len(state.runtime.artifacts),
    }


@router.get("/journal")
async def journal(
    request: Request,
    surface: str | None = None,
    route: str | None = None,
    status: int | None = None,
    valid: bool | None = None,
    limit: int = Query(default=200, ge=1, le=10_000),
) -> dict[str, Any]:
    entries = request.app.state.runtime.journal.entries(surface=surface, route=route, status=status, valid=valid)
    return {"entries": [entry.as_dict() for entry in entries[-limit:]]}


@router.post("/reset")
async def reset(request: Request) -> dict[str, str]:
    request.app.state.runtime.reset()
    for surface in request.app.state.surfaces:
        surface.reset()
    return {"status": "reset"}
