"""Seedream conformance harness: drive a client library against the emulator and judge it.

    from conformance import AdapterSpec, RunConfig, run
    async for event in run(RunConfig("wiro", AdapterSpec.parse("reference"))): ...

Names load on first use, so the pytest plugin (which imports this package) costs nothing until used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "run": "runner",
    "RunConfig": "runner",
    "CHECKS": "checks",
    "AdapterSpec": "adapters",
    "Adapter": "adapters",
    "GenerateRequest": "adapters",
    "GenerateResult": "adapters",
    "ImageResult": "adapters",
    "Failure": "adapters",
    "WebhookVerdict": "adapters",
    "AdapterUnavailable": "adapters",
    "InProcess": "handle",
    "Remote": "handle",
    "EmulatorServer": "server",
}
__all__ = [
    "CHECKS",
    "Adapter",
    "AdapterSpec",
    "AdapterUnavailable",
    "EmulatorServer",
    "Failure",
    "GenerateRequest",
    "GenerateResult",
    "ImageResult",
    "InProcess",
    "Remote",
    "RunConfig",
    "WebhookVerdict",
    "run",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'conformance' has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
