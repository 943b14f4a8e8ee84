"""The control plane under /_emulator: health, journal, reset (a FastAPI app with its own docs) and the dashboard."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp

from .guard import ControlGuard
from .routes import router
from .ui import router as dashboard


def control_app(emulator: Any, *, token: str | None = None, hosts: Iterable[str] = ()) -> ASGIApp:
    app = FastAPI(
        title="Seedream emulator control plane", docs_url="/docs", redoc_url=None, openapi_url="/openapi.json"
    )
    app.state.emulator = emulator
    app.include_router(router)
    app.include_router(dashboard)
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    return ControlGuard(app, token=token, hosts=hosts)


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, with the inputs it echoes made JSON. A body number such as 1e400 parses to infinity, which
    FastAPI's own handler cannot render, so a bad body became a 500 (reliability audit R4)."""
    return JSONResponse(status_code=422, content={"detail": _finite(jsonable_encoder(exc.errors()))})


def _finite(value: Any) -> Any:
    """`value` with every NaN or infinity written as text, as JSON allows no such number."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_finite(item) for item in value]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    return value


__all__ = ["control_app"]
