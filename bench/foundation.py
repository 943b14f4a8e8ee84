"""Foundation benchmark: the Runware JSON path, the evidence renderer, and memory per finished job.

    python bench/foundation.py [--requests 5000] [--jobs 10000]

1. req/s of a sync, URL-output Runware imageInference through the whole emulator app, beside a bare
   Starlette endpoint that parses the same body and answers a small JSON object. Both are driven
   in-process through ASGI (the application's own cost), then over HTTP on loopback with uvicorn
   (one worker, httptools) and a keep-alive load generator (what a client sees).
2. render + encode time of a 4096x4096 evidence image beside raw Pillow encoding a flat image of
   the same size and format.
3. memory held by 10,000 finished 2K jobs (job records, artifacts, journal), and images rendered.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from typing import Any

from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emulator import GenerationSpec, Settings, create_app
from emulator.core.clock import SystemClock
from emulator.core.jobs import JobEngine, Plan
from emulator.core.render import render

PROMPT = "A whimsical old-world bakery built into the side of a giant porcelain dragon statue, golden morning light"


def body(task_uuid: str, width: int = 2304, height: int = 1728) -> bytes:
    task = {
        "taskType": "imageInference",
        "taskUUID": task_uuid,
        "model": "bytedance:5@0",
        "positivePrompt": PROMPT,
        "width": width,
        "height": height,
        "seed": 5417,
        "outputType": "URL",
        "deliveryMethod": "sync",
        "includeCost": True,
        "providerSettings": {"bytedance": {"maxSequentialImages": 1}},
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
    sent = False
    status = 0

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


async def requests_per_second(app: Any, path: str, payloads: list[bytes]) -> float:
    for payload in payloads[:200]:
        assert await call(app, path, payload) == 200
    started = time.perf_counter()
    for payload in payloads[200:]:
        await call(app, path, payload)
    return (len(payloads) - 200) / (time.perf_counter() - started)


def bare_starlette() -> Starlette:
    async def endpoint(request: Request) -> JSONResponse:
        tasks = await request.json()
        return JSONResponse({"data": [{"taskType": tasks[0]["taskType"], "taskUUID": tasks[0]["taskUUID"]}]})

    return Starlette(routes=[Route("/runware/v1", endpoint, methods=["POST"])])


def emulator_factory() -> Any:
    return create_app(Settings(timing="instant", seed=1, journal_size=1000))


def bare_factory() -> Any:
    return bare_starlette()


async def over_http(factory: str, seconds: float, connections: int) -> float:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            f"bench.foundation:{factory}",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--http",
            "httptools",
        ],
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        done = 0
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            while time.perf_counter() < deadline:
                payload = body(str(uuid.uuid4()))
                writer.write(
                    b"POST /runware/v1 HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer k\r\n"
                    b"Content-Type: application/json\r\nContent-Length: "
                    + str(len(payload)).encode()
                    + b"\r\n\r\n"
                    + payload
                )
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200"), head[:80]
                length = int(
                    next(
                        line.split(b":")[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    )
                )
                await reader.readexactly(length)
                done += 1
            writer.close()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return done / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait()


def timed(function: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def render_figures(repeat: int) -> list[tuple[str, float, float]]:
    rows = []
    for fmt, pil in (("jpeg", "JPEG"), ("png", "PNG"), ("webp", "WEBP")):
        spec = GenerationSpec.create(
            prompt=PROMPT,
            provider="runware",
            model="bytedance:5@0",
            job_id=str(uuid.uuid4()),
            index=0,
            seed=5417,
            width=4096,
            height=4096,
            format=fmt,
            quality=95,
            reference_count=0,
        )

        def raw(pil: str = pil) -> None:
            options: dict[str, Any] = {"compress_level": 1} if pil == "PNG" else {"quality": 95}
            if pil == "WEBP":
                options["method"] = 0
            Image.new("RGB", (4096, 4096), (90, 120, 150)).save(io.BytesIO(), pil, **options)

        rows.append((pil, timed(functools.partial(render, spec), repeat), timed(raw, repeat)))
    return rows


async def memory_per_job(jobs: int) -> tuple[float, int, int]:
    app = create_app(Settings(timing="instant", seed=1))
    runtime = app.state.emulator.runtime
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(jobs):
        assert await call(app, "/runware/v1", body(str(uuid.uuid4()), 2048, 2048)) == 200
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    renders = runtime.artifacts.cache.renders
    finished = len(runtime.jobs)
    await runtime.aclose()
    return held / 2**20, renders, finished


async def creation_with_a_full_store(retention: int) -> float:
    """Microseconds to create a job once the store holds `retention` finished jobs (eviction cost)."""
    engine = JobEngine(SystemClock(), max_jobs=retention, max_active=retention)
    for index in range(retention):
        engine.create(f"fill{index}", "bench", Plan(0.0, (0.0,)))
    started = time.perf_counter()
    for index in range(5_000):
        engine.create(f"new{index}", "bench", Plan(0.0, (0.0,)))
    return (time.perf_counter() - started) / 5_000 * 1e6


async def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--requests", type=int, default=5000)
    options.add_argument("--jobs", type=int, default=10_000)
    options.add_argument("--repeat", type=int, default=5)
    options.add_argument("--seconds", type=float, default=5.0)
    options.add_argument("--connections", type=int, default=16)
    args = options.parse_args()

    payloads = [body(str(uuid.uuid4())) for _ in range(args.requests + 200)]
    emulator_app = create_app(Settings(timing="instant", seed=1))
    emulator_rps = await requests_per_second(emulator_app, "/runware/v1", payloads)
    await emulator_app.state.emulator.runtime.aclose()
    bare_rps = await requests_per_second(bare_starlette(), "/runware/v1", payloads)
    print("Runware sync URL imageInference, in-process ASGI, one task per request")
    print(f"  emulator            {emulator_rps:9.0f} req/s  ({1e6 / emulator_rps:6.1f} us/request)")
    print(f"  bare Starlette      {bare_rps:9.0f} req/s  ({1e6 / bare_rps:6.1f} us/request)")
    print(f"  ratio emulator/bare {emulator_rps / bare_rps:9.2f}")
    http_emulator = await over_http("emulator_factory", args.seconds, args.connections)
    http_bare = await over_http("bare_factory", args.seconds, args.connections)
    print(
        f"Same, over HTTP on loopback (uvicorn, {args.connections} keep-alive connections, {args.seconds:.0f} s each)"
    )
    print(f"  emulator            {http_emulator:9.0f} req/s")
    print(f"  bare Starlette      {http_bare:9.0f} req/s")
    print(f"  ratio emulator/bare {http_emulator / http_bare:9.2f}")

    print("\n4096x4096 image, median of", args.repeat)
    print(f"  {'format':<6} {'evidence':>10} {'raw Pillow':>11} {'ratio':>7}")
    for name, evidence, raw in render_figures(args.repeat):
        print(f"  {name:<6} {evidence * 1000:8.1f}ms {raw * 1000:9.1f}ms {evidence / raw:7.2f}")

    held, renders, finished = await memory_per_job(args.jobs)
    print(f"\n{args.jobs} finished 2K jobs (sync, URL output, never downloaded)")
    print(f"  memory held   {held:8.1f} MiB  ({held * 2**20 / args.jobs / 1024:.1f} KiB per job)")
    print(f"  jobs kept     {finished:8d}")
    print(f"  images rendered {renders:6d}")
    print("\nJob creation once the store is full (eviction of the oldest finished job)")
    for retention in (10_000, 100_000):
        print(f"  {retention:>7} kept   {await creation_with_a_full_store(retention):8.1f} us per job")


if __name__ == "__main__":
    asyncio.run(main())
