"""Bounded resources: RSS and health-probe latency of a real server under hostile loads.

`python -m bench.resources [--quick]` starts `python -m emulator serve` in its own process and measures, for each
load the reliability audit measured, the server's RSS growth (from /proc) and the worst `/_emulator/health`
latency while the load runs, next to the audit's figure for the commit before the fixes and the target.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path

import httpx
import websockets

from .tools import LOAD_CORE, SERVER_CORE, free_port, idle_rss_mb, rss_mb

ROOT = Path(__file__).resolve().parent.parent
KEY = {"Authorization": "Bearer bench"}


@dataclass
class Figure:
    load: str
    rss_growth_mb: float
    rss_peak_mb: float
    health_worst_ms: float
    before: str
    target: str
    met: bool


class Server:
    """`python -m emulator serve` on a free port, in its own process (so its RSS is its own)."""

    def __init__(self, *flags: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "emulator", "serve", "--port", str(self.port), "--log-level", "warning"]
        # The server on one core, the load and the probe on the other, as the other benchmarks do.
        self.process = subprocess.Popen([*command, *flags], cwd=ROOT)
        with contextlib.suppress(OSError, AttributeError):
            os.sched_setaffinity(self.process.pid, {SERVER_CORE})
            os.sched_setaffinity(0, {LOAD_CORE})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/_emulator/health", timeout=1).status_code == 200:
                    idle_rss_mb(self.process.pid)
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the emulator did not start")

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def render_cache_mb(self) -> float:
        """The render cache's bytes (bounded by --render-cache-mb): images rendered for downloads, not a leak."""
        stores = httpx.get(f"{self.base}/_emulator/health", timeout=10).json()["stores"]
        return float(stores["render_cache_bytes"]) / 2**20

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def probe(base: str, stop: Event, worst: Synchronized[float]) -> None:
    """In its own process, so the load this process generates cannot delay the probe: health every 50 ms."""
    with httpx.Client(base_url=base, timeout=30) as http:
        while not stop.is_set():
            started = time.perf_counter()
            http.get("/_emulator/health")
            worst.value = max(worst.value, (time.perf_counter() - started) * 1000)
            time.sleep(0.05)


async def watch(server: Server, load: Awaitable[object], settle: float = 0.0) -> tuple[float, float, float, float]:
    """Run `load` while another process probes health; (RSS before, peak, after settling, worst health ms)."""
    before = peak = server.rss_mb()
    stop, worst = multiprocessing.Event(), multiprocessing.Value("d", 0.0)
    prober = multiprocessing.Process(target=probe, args=(server.base, stop, worst), daemon=True)
    prober.start()
    task = asyncio.ensure_future(load)
    while not task.done():
        peak = max(peak, server.rss_mb())
        await asyncio.sleep(0.05)
    await task
    stop.set()
    prober.join(30)
    end = time.monotonic() + settle
    while time.monotonic() < end:
        peak = max(peak, server.rss_mb())
        await asyncio.sleep(0.25)
    return before, peak, server.rss_mb(), float(worst.value)


async def huge_prompts(base: str, count: int) -> None:
    prompt = "x" * (10 * 2**20)
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        for index in range(count):
            surface = ("runware", "evolink", "replicate", "wiro")[index % 4]
            if surface == "runware":
                task = {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()), "model": "bytedance:5@0"}
                await http.post("/runware/v1", json=[{**task, "positivePrompt": prompt}], headers=KEY)
            elif surface == "evolink":
                body = {"model": "doubao-seedream-4.0", "prompt": prompt}
                await http.post("/evolink/v1/images/generations", json=body, headers=KEY)
            elif surface == "replicate":
                await http.post(
                    "/replicate/v1/models/bytedance/seedream-4/predictions",
                    json={"input": {"prompt": prompt}},
                    headers=KEY,
                )
            else:
                await http.post("/wiro/v1/Run/bytedance/seedream-v4", json={"prompt": prompt})


async def parallel_bodies(base: str, count: int, megabytes: int) -> None:
    body = b'[{"taskType": "imageInference", "positivePrompt": "' + b"y" * (megabytes * 2**20) + b'"}]'
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        await asyncio.gather(*(http.post("/runware/v1", content=body, headers=KEY) for _ in range(count)))


async def gone_socket(base: str, images: int) -> None:
    """A WebSocket that asks for 4K base64 results and disconnects before they are ready."""
    async with websockets.connect(base.replace("http", "ws", 1) + "/runware/v1", max_size=None) as socket_:
        await socket_.send(json.dumps([{"taskType": "authentication", "apiKey": "bench"}]))
        await socket_.recv()
        task = {
            "taskType": "imageInference",
            "taskUUID": str(uuid.uuid4()),
            "model": "bytedance:5@0",
            "positivePrompt": "a gone client",
            "width": 4096,
            "height": 4096,
            "outputType": "base64Data",
            "numberResults": images,
        }
        await socket_.send(json.dumps([task]))


async def idle_websockets(base: str, count: int, seconds: float) -> None:
    url = base.replace("http", "ws", 1) + "/runware/v1"
    sockets = [await websockets.connect(url) for _ in range(count)]
    await asyncio.sleep(seconds)
    for each in sockets:
        await each.close()


async def slowloris(port: int, count: int, seconds: float) -> int:
    """Connections that trickle their headers; how many the server still holds open at the end."""

    async def one() -> bool:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                writer.write(b"X-Slow: a\r\n")
                await writer.drain()
                await asyncio.sleep(1)
            return not reader.at_eof()
        except ConnectionError:
            return False
        finally:
            writer.close()

    return sum(await asyncio.gather(*(one() for _ in range(count))))


async def unpolled_jobs(base: str, count: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        for start in range(0, count, 100):
            tasks = [
                {
                    "taskType": "imageInference",
                    "taskUUID": str(uuid.uuid4()),
                    "model": "bytedance:5@0",
                    "positivePrompt": f"unpolled {start + offset}",
                    "width": 2048,
                    "height": 2048,
                    "deliveryMethod": "async",
                }
                for offset in range(min(100, count - start))
            ]
            await http.post("/runware/v1", json=tasks, headers=KEY)


async def measure(quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    server = Server("--timing", "fast")
    try:
        prompts = 8 if quick else 25
        before, peak, after, worst = await watch(server, huge_prompts(server.base, prompts))
        figures.append(
            Figure(f"{prompts} x 10 MB prompts", after - before, peak, worst, "+1,300 MB (peak 2,379)", "< +100 MB",
                   after - before < 100)
        )  # fmt: skip
        count = 6
        before, peak, after, worst = await watch(server, parallel_bodies(server.base, count, 20 if quick else 60))
        figures.append(
            Figure(f"{count} parallel {'20' if quick else '60'} MB bodies", after - before, peak, worst,
                   "health 1,383 ms", "health < 200 ms", worst < 200)
        )  # fmt: skip
        idle, cached = server.rss_mb(), server.render_cache_mb()
        _, peak, after, worst = await watch(server, gone_socket(server.base, 2 if quick else 6), settle=15)
        kept = after - idle - (server.render_cache_mb() - cached)
        figures.append(
            Figure("WebSocket gone with 4K results pending (net of the bounded render cache)", kept, peak, worst,
                   "2,249 MB after 15 s", "within 50 MB of idle in 15 s", kept < 50)
        )  # fmt: skip
        sockets = 200 if quick else 1000
        before, peak, after, worst = await watch(server, idle_websockets(server.base, sockets, 3))
        figures.append(
            Figure(f"{sockets} idle WebSockets", after - before, peak, worst, "not measured", "health < 200 ms",
                   worst < 200)
        )  # fmt: skip
        trickles = 50 if quick else 150
        held: list[int] = []

        async def loris() -> None:
            held.append(await slowloris(server.port, trickles, 15))

        before, peak, after, worst = await watch(server, loris())
        figures.append(
            Figure(f"{trickles} slowloris connections, 15 s", after - before, peak, worst,
                   "150 held open", f"0 held open (held {held[0]})", held[0] == 0)
        )  # fmt: skip
        jobs = 2_000 if quick else 10_000
        before, peak, after, worst = await watch(server, unpolled_jobs(server.base, jobs))
        figures.append(
            Figure(f"{jobs:,} unpolled async 2K jobs", after - before, peak, worst, "4 MB / 1,000 jobs",
                   "< 50 MB per 10,000", (after - before) * 10_000 / jobs < 50)
        )  # fmt: skip
    finally:
        server.close()
    return figures


def table(figures: list[Figure]) -> str:
    lines = [
        "| load | RSS growth | RSS peak | health worst | before the fixes (audit) | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.load} | {f.rss_growth_mb:+.0f} MB | {f.rss_peak_mb:.0f} MB | {f.health_worst_ms:.0f} ms "
            f"| {f.before} | {f.target} | {'yes' if f.met else '**no**'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller loads (a minute instead of several)")
    args = parser.parse_args(argv)
    figures = asyncio.run(measure(args.quick))
    print(table(figures))
    print(f"\n{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}")
    return 0 if all(f.met for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
