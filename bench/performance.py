"""Performance targets (issue 13), each printed with its goal and a ratio measured in the same run.

    python bench/performance.py [--only json,gc,image,loop,memory] [--compare DIR]

json    the JSON path over HTTP: a sync, URL-output Runware imageInference with a fresh taskUUID per request,
        against a bare Starlette endpoint parsing the same body and Stoplight Prism 5 (`-v silent`) validating an
        OpenAPI document of the same task; server pinned to one core, wrk on the other, medians of interleaved
        rounds. Goals: >= 0.6x Starlette, >= 2x Prism.
gc      collector pauses with 100,000 finished jobs retained, under sustained load: the pause histogram of the
        server process and the request latency. Goals: no pause over 20 ms, p99 <= 3x p50.
image   a 4096x4096 evidence image (render + encode) against raw Pillow encoding a plain image of the same size
        and format, and the first download of a fresh 4K JPEG over HTTP. Goals: JPEG <= 1.2x, PNG and WEBP
        <= 1.5x, first download <= 100 ms.
loop    request latency while 4K images render (PNG, then JPEG), against the same requests on an idle server. Goal:
        renders never block the event loop (p99 within 2x of idle, no request slower than one render).
memory  memory held by 10,000 finished 2K jobs. Goal: <= 50 MB.

`--compare DIR` runs the server-side sections a second time from another source tree (for example an
export of an older commit), in the same rounds, so before and after are measured side by side.
"""

from __future__ import annotations

import argparse
import collections
import functools
import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import servers, tools

SECTIONS = ("json", "gc", "image", "loop", "memory")


def row(label: str, value: str, goal: str, ratio: float | None, ok: bool | None) -> None:
    verdict = "" if ok is None else ("  met" if ok else "  MISSED")
    shown = "" if ratio is None else f"{ratio:6.2f}x"
    print(f"  {label:<44} {value:>14}  {shown:>8}  goal {goal}{verdict}", flush=True)


def environment(tree: Path) -> dict[str, str]:
    # `python -m emulator` puts its working directory first on the path: servers started so run from `cwd=tree` too.
    return {"PYTHONPATH": str(tree)}


# --- json ---------------------------------------------------------------------------------------------------------


def json_path(rounds: int, seconds: float, connections: int, compare: Path | None) -> None:
    print(
        f"\nJSON path: sync URL Runware imageInference over HTTP, {connections} connections, server on core "
        f"{tools.SERVER_CORE}, wrk on core {tools.LOAD_CORE}, {seconds:.0f} s per run, median of {rounds} rounds"
    )
    body = servers.body_template()
    trees: dict[str, Path] = {"emulator": tools.ROOT}
    if compare is not None:
        trees[f"emulator ({compare.name})"] = compare
    rates: dict[str, list[float]] = collections.defaultdict(list)
    p99s: dict[str, list[float]] = collections.defaultdict(list)
    cpu: dict[str, list[float]] = collections.defaultdict(list)
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(rounds):
            contenders: list[tuple[str, Callable[[int], list[str]], dict[str, str]]] = [
                (name, functools.partial(emulator_at, pauses=Path(scratch) / f"{index}.json"), environment(tree))
                for index, (name, tree) in enumerate(trees.items())
            ]
            contenders += [
                ("bare Starlette", servers.bare_command, environment(tools.ROOT)),
                ("Prism 5 -v silent", servers.prism_command, {}),
            ]
            for name, command, env in contenders:
                port = tools.free_port()
                with tools.server(command(port), port, env=env) as process:
                    tools.wrk(port, body, seconds=min(3.0, seconds), connections=connections)
                    used = tools.cpu_seconds(process.pid)
                    load = tools.wrk(port, body, seconds=seconds, connections=connections)
                    used = tools.cpu_seconds(process.pid) - used
                rates[name].append(load.rate)
                p99s[name].append(load.p99_ms)
                cpu[name].append(used / load.requests)
                print(
                    f"    round {round_ + 1}: {name:<28} {load.rate:8.0f} req/s  p50 {load.p50_ms:6.2f} ms  "
                    f"p99 {load.p99_ms:6.2f} ms  server CPU {used / load.requests * 1e6:6.0f} us/request",
                    flush=True,
                )
    median = {name: statistics.median(values) for name, values in rates.items()}
    per_request = {name: statistics.median(values) for name, values in cpu.items()}
    bare, prism = median["bare Starlette"], median["Prism 5 -v silent"]
    for name in trees:
        rate = median[name]
        print(
            f"  {name}: {rate:.0f} req/s (p99 {statistics.median(p99s[name]):.1f} ms); "
            f"bare Starlette {bare:.0f} req/s; Prism {prism:.0f} req/s"
        )
        row(f"{name} / bare Starlette", f"{rate:.0f} req/s", ">= 0.60x", rate / bare, rate / bare >= 0.6)
        row(f"{name} / Prism -v silent", f"{rate:.0f} req/s", ">= 2.00x", rate / prism, rate / prism >= 2.0)
        # Server CPU per request does not depend on what else the machine runs: the same ratios, less noise.
        for other in ("bare Starlette", "Prism 5 -v silent"):
            ratio = per_request[other] / per_request[name]
            row(
                f"  same, by server CPU per request: / {other.split()[0]}",
                f"{per_request[name] * 1e6:.0f} us",
                ">= 0.60x" if other.startswith("bare") else ">= 2.00x",
                ratio,
                None,
            )


def emulator_at(port: int, pauses: Path) -> list[str]:
    return servers.emulator_command(port, pauses)


# --- gc -----------------------------------------------------------------------------------------------------------

BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)


def histogram(pauses: list[float]) -> str:
    counts = collections.Counter(next((b for b in BUCKETS if p * 1000 <= b), 10_000) for p in pauses)
    return "  ".join(f"<={b}ms:{counts[b]}" for b in (*BUCKETS, 10_000) if counts[b]).replace("<=10000ms", ">2000ms")


def collector(retained: int, seconds: float, connections: int, compare: Path | None) -> None:
    print(
        f"\nCollector pauses: {retained:,} finished jobs retained (filled over HTTP first), then {seconds:.0f} s "
        f"of sustained load, {connections} connections"
    )
    body = servers.body_template()
    trees: dict[str, Path] = {"emulator": tools.ROOT}
    if compare is not None:
        trees[f"emulator ({compare.name})"] = compare
    with tempfile.TemporaryDirectory() as scratch:
        for name, tree in trees.items():
            pauses_file = Path(scratch) / "pauses.json"
            port = tools.free_port()
            with tools.server(servers.emulator_command(port, pauses_file), port, env=environment(tree)):
                fill_started = time.monotonic()
                made, _ = tools.fill(port, body, retained + retained // 10, connections=connections)
                filled = time.monotonic()
                load = tools.wrk(port, body, seconds=seconds, connections=connections)
                ended = time.monotonic()
            recorded = json.loads(pauses_file.read_text())
            during = [(gen, d, extra) for at, gen, d, *extra in recorded["pauses"] if filled <= at <= ended]
            fill = [(gen, d, extra) for at, gen, d, *extra in recorded["pauses"] if fill_started <= at < filled]
            print(
                f"  {name}: {made:,} requests to fill, {filled - fill_started:.0f} s; "
                f"collector thresholds {recorded['threshold']}"
            )
            for label, found in (("while filling", fill), ("under load", during)):
                for generation in (0, 1, 2):
                    chosen = [d for gen, d, _ in found if gen == generation]
                    own = [extra[0] for gen, _, extra in found if gen == generation and extra]
                    freed = [extra[1] for gen, _, extra in found if gen == generation and len(extra) > 1]
                    if chosen:
                        print(
                            f"    {label:<14} gen {generation}: {len(chosen):6d} pauses, max {max(chosen) * 1000:7.1f} ms"
                            f"  [{histogram(chosen)}]"
                        )
                        if freed:
                            print(
                                f"    {'':<14}        objects freed per collection: {statistics.mean(freed):.0f} on average"
                            )
                        if own:
                            print(
                                f"    {'':<14}        of it the collector's own CPU: max {max(own) * 1000:7.1f} ms"
                                f"  [{histogram(own)}]"
                            )
                        if freed:
                            print(f"    {'':<14}        objects freed: {statistics.mean(freed):.0f} a collection")
            longest = max((d for _, d, _ in during), default=0.0)
            print(
                f"    load: {load.rate:.0f} req/s, p50 {load.p50_ms:.2f} ms, p99 {load.p99_ms:.2f} ms, "
                f"max {load.max_ms:.1f} ms"
            )
            row(f"{name}: longest pause under load", f"{longest * 1000:.1f} ms", "<= 20 ms", None, longest <= 0.020)
            row(
                f"{name}: p99 / p50",
                f"{load.p99_ms:.2f} ms",
                "<= 3.00x",
                load.p99_ms / load.p50_ms,
                load.p99_ms <= 3 * load.p50_ms,
            )


# --- image --------------------------------------------------------------------------------------------------------


def in_process(tree: Path, *arguments: str) -> Any:
    """`bench/inprocess.py` run against the emulator of `tree`."""
    done = subprocess.run(
        [sys.executable, str(tools.ROOT / "bench" / "inprocess.py"), *arguments],
        env={**os.environ, **environment(tree)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


class Client:
    """A keep-alive HTTP/1.1 client on the standard library: little of its own time in the figures."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, path: str, payload: bytes) -> Any:
        headers = {"Content-Type": "application/json", "Authorization": "Bearer bench-key"}
        self.connection.request("POST", path, body=payload, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        assert response.status == 200, data[:300]
        return json.loads(data)

    def get(self, url: str) -> bytes:
        self.connection.request("GET", urllib.parse.urlsplit(url).path)
        response = self.connection.getresponse()
        data = response.read()
        assert response.status == 200, data[:300]
        return data

    def close(self) -> None:
        self.connection.close()


def task_body(width: int, height: int, fmt: str = "JPG") -> bytes:
    task = servers.task(str(uuid.uuid4()), width, height)
    task["outputFormat"] = fmt
    task["seed"] = int.from_bytes(os.urandom(3), "big")
    return json.dumps([task]).encode()


def first_downloads(tree: Path, count: int) -> list[float]:
    """Seconds from asking for a fresh 4K JPEG's URL to having all its bytes, `count` times (each one new)."""
    port = tools.free_port()
    command = [
        sys.executable,
        "-m",
        "emulator",
        "serve",
        "--port",
        str(port),
        "--timing",
        "instant",
        "--log-level",
        "warning",
    ]
    times = []
    with tools.server(command, port, env=environment(tree), cwd=tree, pin=False):
        client = Client(port)
        client.get(client.post("/runware/v1", task_body(1024, 1024))["data"][0]["imageURL"])  # warm up
        for _ in range(count):
            url = client.post("/runware/v1", task_body(4096, 4096))["data"][0]["imageURL"]
            started = time.perf_counter()
            data = client.get(url)
            times.append(time.perf_counter() - started)
            assert len(data) > 5_000_000
        client.close()
    return times


def images(repeat: int, compare: Path | None) -> None:
    print(
        f"\nImage path: 4096x4096, render + encode against raw Pillow making and encoding a plain image of the same "
        f"size and format, interleaved, median of {repeat}"
    )
    trees: dict[str, Path] = {"emulator": tools.ROOT}
    if compare is not None:
        trees[f"emulator ({compare.name})"] = compare
    goals = {"JPEG": 1.2, "PNG": 1.5, "WEBP": 1.5}
    for name, tree in trees.items():
        figures = in_process(tree, "image", str(repeat))
        for fmt, goal in goals.items():
            evidence, raw = statistics.median(figures[fmt]["evidence"]), statistics.median(figures[fmt]["raw"])
            row(
                f"{name}: {fmt} evidence / raw Pillow",
                f"{evidence * 1000:.0f} / {raw * 1000:.0f} ms",
                f"<= {goal:.2f}x",
                evidence / raw,
                evidence / raw <= goal,
            )
    for name, tree in trees.items():
        times = first_downloads(tree, repeat)
        median = statistics.median(times)
        row(f"{name}: first download of a fresh 4K JPEG", f"{median * 1000:.0f} ms", "<= 100 ms", None, median <= 0.1)
        print(f"    each: {', '.join(f'{t * 1000:.0f}' for t in times)} ms")


# --- loop ---------------------------------------------------------------------------------------------------------


def _downloader(port: int, stop: Any, count: Any, fmt: str) -> None:
    client = Client(port)
    while not stop.is_set():
        client.get(client.post("/runware/v1", task_body(4096, 4096, fmt))["data"][0]["imageURL"])
        with count.get_lock():
            count.value += 1
    client.close()


def probe(port: int, seconds: float) -> list[float]:
    """Latency of small Runware requests, one after the other with 5 ms between, for `seconds`."""
    client, times = Client(port), []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        payload = task_body(1024, 1024)
        started = time.perf_counter()
        client.post("/runware/v1", payload)
        times.append(time.perf_counter() - started)
        time.sleep(0.005)
    client.close()
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def loop(seconds: float, renderers: int, compare: Path | None) -> None:
    # PNG: most bytes to send (27 MB each); JPEG: Pillow holds the interpreter lock while it encodes one.
    for fmt in ("PNG", "JPG"):
        loop_with(fmt, seconds, renderers, compare)


def loop_with(fmt: str, seconds: float, renderers: int, compare: Path | None) -> None:
    print(
        f"\nEvent loop while rendering: small Runware requests every 5 ms, idle, then while {renderers} clients "
        f"download fresh 4K {fmt}s without pause ({seconds:.0f} s each; server and its render processes on core "
        f"{tools.SERVER_CORE}, clients on core {tools.LOAD_CORE})"
    )
    trees: dict[str, Path] = {"emulator": tools.ROOT}
    if compare is not None:
        trees[f"emulator ({compare.name})"] = compare
    context = multiprocessing.get_context("fork")
    for name, tree in trees.items():
        port = tools.free_port()
        command = [
            sys.executable,
            "-m",
            "emulator",
            "serve",
            "--port",
            str(port),
            "--timing",
            "instant",
            "--log-level",
            "warning",
        ]
        # The server and its render processes (which inherit its core, at a lower priority) on one core, this
        # process's probe and downloaders on the other: otherwise the downloaders, reading 27 MB a PNG in Python,
        # competed with the event loop for a core, and the figure measured the load generator.
        with tools.server(command, port, env=environment(tree), cwd=tree), tools.on_core(tools.LOAD_CORE):
            idle = probe(port, seconds)
            stop, count = context.Event(), context.Value("i", 0)
            workers = [context.Process(target=_downloader, args=(port, stop, count, fmt)) for _ in range(renderers)]
            for worker in workers:
                worker.start()
            time.sleep(1.0)
            busy = probe(port, seconds)
            stop.set()
            for worker in workers:
                worker.join(120)
        rendered = count.value
        print(f"  {name}: {rendered} 4K {fmt}s rendered and downloaded meanwhile ({rendered / (seconds + 1):.1f}/s)")
        for label, times in (("idle", idle), ("rendering", busy)):
            print(
                f"    {label:<10} {len(times):5d} requests  p50 {percentile(times, 0.5) * 1000:6.1f} ms  "
                f"p99 {percentile(times, 0.99) * 1000:6.1f} ms  max {max(times) * 1000:6.1f} ms"
            )
        ratio = percentile(busy, 0.99) / percentile(idle, 0.99)
        row(
            f"{name}: {fmt} p99 while rendering / idle",
            f"{percentile(busy, 0.99) * 1000:.1f} ms",
            "<= 2.00x",
            ratio,
            ratio <= 2.0,
        )
        row(
            f"{name}: {fmt} longest request while rendering",
            f"{max(busy) * 1000:.1f} ms",
            "<= 50 ms",
            None,
            max(busy) <= 0.05,
        )


# --- memory -------------------------------------------------------------------------------------------------------


def memory(jobs: int, compare: Path | None) -> None:
    print(f"\nMemory: {jobs:,} finished 2048x2048 jobs (sync, URL output, never downloaded), in-process, tracemalloc")
    trees: dict[str, Path] = {"emulator": tools.ROOT}
    if compare is not None:
        trees[f"emulator ({compare.name})"] = compare
    for name, tree in trees.items():
        figures = in_process(tree, "memory", str(jobs))
        held = figures["held"] / 2**20
        row(f"{name}: memory held", f"{held:.1f} MiB", "<= 50 MiB", None, held <= 50)
        print(
            f"    {figures['held'] / jobs / 1024:.1f} KiB per job; {figures['kept']:,} jobs kept; "
            f"{figures['renders']} images rendered"
        )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections: " + ", ".join(SECTIONS))
    options.add_argument("--compare", type=Path, help="another source tree to measure the server sections with")
    options.add_argument("--rounds", type=int, default=3)
    options.add_argument("--seconds", type=float, default=8.0)
    options.add_argument("--connections", type=int, default=16)
    options.add_argument("--retained", type=int, default=100_000)
    options.add_argument("--jobs", type=int, default=10_000)
    options.add_argument("--repeat", type=int, default=7)
    args = options.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        options.error(f"unknown sections: {', '.join(sorted(unknown))}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    if "json" in chosen:
        json_path(args.rounds, args.seconds, args.connections, args.compare)
    if "gc" in chosen:
        collector(args.retained, max(args.seconds, 20.0), args.connections, args.compare)
    if "image" in chosen:
        images(args.repeat, args.compare)
    if "loop" in chosen:
        loop(args.seconds, 2, args.compare)
    if "memory" in chosen:
        memory(args.jobs, args.compare)


if __name__ == "__main__":
    main()
