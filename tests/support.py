"""Plain helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import base64
import io
import uuid
from typing import Any, TypeVar

from PIL import Image

from emulator.core.render import GenerationSpec

T = TypeVar("T")

DROP = object()

# One multipart part as httpx's `files=` takes it: (field, (file name, or None for a plain field, content[, type])).
FilePart = tuple[str, tuple[str | None, str | bytes] | tuple[str | None, str | bytes, str]]


def present(value: T | None) -> T:
    """`value`, which the test expects to be there (narrows an Optional for the type checker too)."""
    assert value is not None
    return value


def task_uuid() -> str:
    return str(uuid.uuid4())


def inference(**overrides: Any) -> dict[str, Any]:
    """A valid Seedream 4.0 imageInference task; `key=DROP` removes a key."""
    task: dict[str, Any] = {
        "taskType": "imageInference",
        "taskUUID": task_uuid(),
        "model": "bytedance:5@0",
        "positivePrompt": "a lighthouse at dusk",
        "width": 2048,
        "height": 2048,
    }
    task.update(overrides)
    return {key: value for key, value in task.items() if value is not DROP}


def image_bytes(width: int = 64, height: int = 48, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def data_uri(width: int = 64, height: int = 48, fmt: str = "PNG") -> str:
    media = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "GIF": "gif"}[fmt]
    return f"data:image/{media};base64," + base64.b64encode(image_bytes(width, height, fmt)).decode()


async def settle(rounds: int = 5) -> None:
    """Let tasks woken by a manual clock run."""
    for _ in range(rounds):
        await asyncio.sleep(0)


def contract_errors(provider: str, name: str, instance: Any) -> list[str]:
    """Violations found by the reference `jsonschema` implementation (independent of the emulator's validator)."""
    import jsonschema
    from referencing import Registry, Resource

    from contracts import load

    contract = load(provider)
    registry = Registry().with_resources(
        (contract.uri(doc), Resource.from_contents(schema, default_specification=_draft()))
        for doc, schema in contract.resources().items()
    )
    validator = jsonschema.Draft202012Validator(
        contract.schema(name), registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


def _draft() -> Any:
    from referencing.jsonschema import DRAFT202012

    return DRAFT202012


async def drive(clock: Any, done: Any, step: float = 0.05, limit: float = 3600) -> None:
    """Advance a manual clock in steps, letting woken tasks run, until `done()` or `limit` seconds."""
    elapsed = 0.0
    await settle(20)
    while not done() and elapsed < limit:
        clock.advance(step)
        elapsed += step
        await settle(20)


class SyncClient:
    """A blocking client for an ASGI app, for hypothesis tests (which cannot be coroutines)."""

    def __init__(self, app: Any) -> None:
        import anyio.from_thread
        import httpx

        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        self.app = app

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        return self._portal.call(lambda: self._client.request(method, url, **kwargs))

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def close(self) -> None:
        self._portal.call(self._client.aclose)
        self._portal.call(self.app.state.emulator.runtime.aclose)
        self._portal_cm.__exit__(None, None, None)


def generation_spec(**overrides: Any) -> GenerationSpec:
    """A small picture's spec, for tests of rendering; any field can be overridden."""
    fields: dict[str, Any] = dict(
        prompt="a lighthouse at dusk",
        provider="runware",
        model="bytedance:5@0",
        job_id="job-1",
        index=0,
        seed=42,
        width=320,
        height=200,
        format="png",
        quality=95,
        reference_count=2,
    )
    fields.update(overrides)
    return GenerationSpec.create(**fields)
