"""`python bench/inprocess.py memory|image ...`: figures measured inside one process, printed as one JSON line.

A script, not a module of `bench`, so that it measures whichever `emulator` comes first on PYTHONPATH (the working
tree, or an older tree to compare with), like `bench/recorder.py`.

memory JOBS     bytes held (tracemalloc) after JOBS sync, URL-output Runware jobs of 2048x2048 that are never
                downloaded, through the whole app in-process
image REPEAT    seconds to render + encode a 4096x4096 evidence image, and to make and encode a plain image of the
                same size and format with Pillow, interleaved, REPEAT times each, per format
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import sys
import time
import tracemalloc
import uuid
from typing import Any

from PIL import Image

from emulator import GenerationSpec, Settings, create_app
from emulator.core.render import render

PROMPT = "A whimsical old-world bakery built into the side of a giant porcelain dragon statue, golden morning light"


def body(width: int, height: int) -> bytes:
    task = {
        "taskType": "imageInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "bytedance:5@0",
        "positivePrompt": PROMPT,
        "width": width,
        "height": height,
        "seed": 5417,
        "outputType": "URL",
        "deliveryMethod": "sync",
        "includeCost": True,
    }
    return json.dumps([task]).encode()


async def call(app: Any, path: str, payload: bytes) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"authorization", b"Bearer bench-key"),
            (b"content-length", str(len(payload)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }
    sent, status = False, 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def memory(jobs: int) -> dict[str, Any]:
    app = create_app(Settings(timing="instant", seed=1))
    runtime = app.state.emulator.runtime
    payloads = [body(2048, 2048) for _ in range(jobs)]
    assert await call(app, "/runware/v1", body(2048, 2048)) == 200
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for payload in payloads:
        assert await call(app, "/runware/v1", payload) == 200
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    figures = {"jobs": jobs, "held": held, "kept": len(runtime.jobs), "renders": runtime.artifacts.cache.renders}
    await runtime.aclose()
    return figures


def image(repeat: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for fmt, name in (("jpeg", "JPEG"), ("png", "PNG"), ("webp", "WEBP")):
        options: dict[str, Any] = {"compress_level": 1} if name == "PNG" else {"quality": 95}
        if name == "WEBP":
            options["method"] = 0
        evidence, raw = [], []
        for round_ in range(repeat + 1):
            spec = GenerationSpec.create(
                prompt=PROMPT,
                provider="runware",
                model="bytedance:5@0",
                job_id=str(uuid.uuid4()),  # a fresh picture every time, as a first download renders it
                index=0,
                seed=5417 + round_,
                width=4096,
                height=4096,
                format=fmt,
                quality=95,
                reference_count=0,
            )
            started = time.perf_counter()
            render(spec)
            middle = time.perf_counter()
            Image.new("RGB", (4096, 4096), (90, 120, 150)).save(io.BytesIO(), name, **options)
            ended = time.perf_counter()
            if round_:  # the first round warms fonts and caches up
                evidence.append(middle - started)
                raw.append(ended - middle)
        figures[name] = {"evidence": evidence, "raw": raw}
    return figures


def main() -> None:
    command, argument = sys.argv[1], int(sys.argv[2])
    result = asyncio.run(memory(argument)) if command == "memory" else image(argument)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
