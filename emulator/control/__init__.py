"""The control plane under /_emulator: health, journal, reset (a FastAPI app with its own docs)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from .routes import router


def control_app(emulator: Any) -> FastAPI:
    app = FastAPI(
        title="Seedream emulator control plane", docs_url="/docs", redoc_url=None, openapi_url="/openapi.json"
    )
    app.state.emulator = emulator
    app.include_router(router)
    return app


__all__ = ["control_app"]
