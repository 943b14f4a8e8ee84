"""Downloads of generated images: the bytes `render` makes, sent in pieces, while other requests go on being served."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conformance.server import free_port
from emulator.core.render import GenerationSpec, picture, render
from emulator.core.renderers import Renderers
from tests.conftest import Emulator
from tests.emulator.providers.runware.conftest import Runware
from tests.emulator.test_restart import Server
from tests.support import generation_spec, inference

FORMATS = {"JPG": "jpg", "PNG": "png", "WEBP": "webp"}
AUTH = {"Authorization": "Bearer k"}


def spec_of(emulator: Emulator, url: str) -> GenerationSpec:
    artifact = emulator.runtime.artifacts.get(url.rsplit("/", 1)[1].split(".")[0])
    assert artifact is not None and artifact.spec is not None
    return artifact.spec


@pytest.mark.parametrize("output", FORMATS)
async def test_a_download_is_the_rendered_image_byte_for_byte(emulator: Emulator, output: str) -> None:
    [item] = (await Runware(emulator).create(inference(outputFormat=output, width=1024, height=1024))).json()["data"]
    expected = render(spec_of(emulator, item["imageURL"]))
    got = await emulator.client.get(item["imageURL"])
    assert got.status_code == 200
    assert got.content == expected and int(got.headers["content-length"]) == len(expected)
    head = await emulator.client.head(item["imageURL"])
    assert head.content == b"" and int(head.headers["content-length"]) == len(expected)


async def test_requests_are_answered_while_an_image_renders(emulator: Emulator) -> None:
    """A render holds no request up: one arriving while a 4K image renders is answered before the render ends."""
    runware = Runware(emulator)
    [item] = (await runware.create(inference(outputFormat="PNG", width=4096, height=4096))).json()["data"]
    download = asyncio.create_task(emulator.client.get(item["imageURL"]))
    renderers = emulator.runtime.artifacts.cache.renderers
    while not renderers.in_progress and not download.done():
        await asyncio.sleep(0)
    # A 4K PNG takes hundreds of milliseconds to render, a request a few: on the event loop, the render would finish
    # before the request could even start.
    answer = await runware.create(inference())
    assert answer.status_code == 200
    assert not download.done(), "the request waited for the render"
    assert (await download).content == render(spec_of(emulator, item["imageURL"]))


def test_renders_run_in_processes_of_lower_priority() -> None:
    """Renders share neither the interpreter lock nor, first, a core with the event loop's process."""
    renderers = Renderers(workers=1)
    try:
        pid, niceness = renderers._executor().submit(_whoami).result(timeout=60)
    finally:
        renderers.shutdown()
    assert pid != os.getpid()
    assert niceness > os.getpriority(os.PRIO_PROCESS, 0)


def _whoami() -> tuple[int, int]:
    return os.getpid(), os.getpriority(os.PRIO_PROCESS, 0)


def test_render_processes_leave_with_a_killed_server(tmp_path: Path) -> None:
    server = Server(tmp_path / "state", free_port())
    server.start()
    try:
        [item] = httpx.post(server.url("runware/v1"), json=[inference()], headers=AUTH, timeout=30).json()["data"]
        assert httpx.get(item["imageURL"], timeout=60).status_code == 200
        assert server.process is not None
        children = _descendants(server.process.pid)
        assert children, "renders run in child processes"
        server.kill()
    finally:
        server.stop()
    deadline = time.monotonic() + 30
    while _alive(children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(children)


def _descendants(pid: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                # The parent id is the second field after the command, which is in parentheses and may hold spaces.
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> bool:
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            if (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                return True
    return False


async def test_requests_are_answered_while_a_reference_fixture_renders(emulator: Emulator) -> None:
    download = asyncio.create_task(emulator.client.get("/files/fixture-6000x6000-png.png"))
    renderers = emulator.runtime.artifacts.cache.renderers
    while not renderers.in_progress and not download.done():
        await asyncio.sleep(0)
    answer = await Runware(emulator).create(inference())
    assert answer.status_code == 200
    assert not download.done(), "the request waited for the fixture"
    fixture = await download
    assert fixture.status_code == 200 and fixture.headers["content-type"] == "image/png"


async def test_a_render_process_that_dies_is_replaced() -> None:
    renderers = Renderers(workers=1)
    made = generation_spec(width=64, height=64)
    try:
        first = await renderers.picture(made)
        pool = renderers._executor()
        children = _descendants(os.getpid()) & set(pool._processes or {})
        assert children
        for child in children:
            os.kill(child, signal.SIGKILL)
        await asyncio.sleep(0.5)
        assert await renderers.picture(made) == first
        assert renderers._executor() is not pool
    finally:
        renderers.shutdown()


EMBEDDED = """
import asyncio, json, httpx
from emulator import Settings, create_app

app = create_app(Settings(timing="instant", seed=1))

async def main():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        made = await client.post("/runware/v1", json=[json.loads({task!r})], headers={{"Authorization": "Bearer k"}})
        image = await client.get(made.json()["data"][0]["imageURL"])
        print(image.status_code, image.content[:3].hex())

asyncio.run(main())
"""


def test_an_embedding_script_renders_in_threads_and_its_top_level_runs_once(tmp_path: Path) -> None:
    """Spawned children import the main module: a script without an `if __name__ == "__main__":` guard would run
    again in each (printing twice here), so only `seedream-emulator serve` renders in child processes."""
    script = tmp_path / "embedded.py"
    script.write_text(EMBEDDED.format(task=json.dumps(inference(width=1024, height=1024))))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.stdout.split() == ["200", "ffd8ff"], done.stderr[-2000:]


async def test_a_process_that_cannot_start_children_renders_in_threads() -> None:
    renderers = Renderers(workers=1)
    renderers._executor().shutdown()  # a pool that refuses new work, as multiprocessing does in some processes
    spec = generation_spec(width=64, height=64)
    assert await renderers.picture(spec) == picture(spec)
    assert renderers.in_threads_because is not None and "shutdown" in renderers.in_threads_because
    renderers.shutdown()
