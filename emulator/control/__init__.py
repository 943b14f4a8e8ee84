"""The control plane under /_emulator: health, journal, reset (a FastAPI app with its own docs)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp

from .guard import ControlGuard
from .routes import router


def control_app(emulator: Any, *, token: str | None = None, hosts: Iterable[str] = ()) -> ASGIApp:
    app = FastAPI(
        title="Seedream emulator control plane", docs_url="/docs", redoc_url=None, openapi_url="/openapi.json"
    )
    app.state.emulator = emulator
    app.include_router(router)
    return ControlGuard(app, token=token, hosts=hosts)


__all__ = ["control_app"]
