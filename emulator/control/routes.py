from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from emulator import __version__

router = APIRouter(tags=["control"])


def _emulator(request: Request) -> Any:
    return request.app.state.emulator


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    emulator = _emulator(request)
    runtime, settings = emulator.runtime, emulator.settings
    base = runtime.base_url(f"{request.url.scheme}://{request.url.netloc}")
    return {
        "status": "ok",
        "version": __version__,
        "timing": settings.timing,
        "seed": runtime.ids.seed,
        "surfaces": {
            surface.name: dict(surface.endpoints(base + settings.prefix(surface.name))) for surface in emulator.surfaces
        },
        "jobs": len(runtime.jobs),
        "artifacts": len(runtime.artifacts),
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
    entries = _emulator(request).runtime.journal.entries(surface=surface, route=route, status=status, valid=valid)
    return {"entries": [entry.as_dict() for entry in entries[-limit:]]}


@router.post("/reset")
async def reset(request: Request) -> dict[str, str]:
    _emulator(request).reset()
    return {"status": "reset"}
