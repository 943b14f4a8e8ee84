"""`serve --state DIR`: a server killed with SIGKILL mid-job loses nothing it accepted (issue 15).

Real processes, real clients: each surface's reference client starts a job on a server that is then killed, and
finishes it on a new server reading the same directory.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from clients.ark import ArkClient
from conformance.server import free_port
from tests.clients.support import Surface, surfaces
from tests.support import image_bytes

ROOT = Path(__file__).resolve().parents[2]


class Server:
    """`seedream-emulator serve --state DIR` on a fixed port, so a restarted one is reached at the same URLs."""

    def __init__(self, state: Path, port: int) -> None:
        self.state, self.port = state, port
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, surface: str) -> str:
        return f"{self.base}/{surface}"

    def start(self, *extra: str) -> None:
        command = [sys.executable, "-m", "emulator", "serve", "--port", str(self.port), "--state", str(self.state)]
        command += ["--timing", "realistic", "--seed", "7", "--log-level", "warning", *extra]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/_emulator/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.process.kill()
        errors = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
        raise AssertionError(f"the server did not start: {errors}")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def health(self) -> dict[str, Any]:
        reply: dict[str, Any] = httpx.get(self.base + "/_emulator/health", timeout=5).json()
        return reply


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path / "state", free_port())
    yield server
    server.stop()


def client(surface: Surface, server: Server) -> Any:
    return surface.sync(surface.key, **surface.options(server.url(surface.name), timeout=60.0))


def picture(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size


@pytest.mark.parametrize("surface", surfaces(), ids=lambda surface: surface.name)
def test_a_job_accepted_before_a_kill_finishes_after_the_restart(surface: Surface, server: Server) -> None:
    server.start()
    with client(surface, server) as before:
        job_id = before.start(surface.request("a lighthouse at dusk, generate 2 images", images=2))
    server.kill()
    server.start()
    with client(surface, server) as after:
        images = after.wait(job_id)
        assert len(images) == 2
        assert picture(images[0].content()) == (2048, 2048)
    assert server.health()["state"]["unwritten"] == []


def test_uploads_and_finished_images_are_served_after_a_kill(server: Server, tmp_path: Path) -> None:
    [replicate] = [surface for surface in surfaces() if surface.name == "replicate"]
    upload = tmp_path / "reference.png"
    upload.write_bytes(image_bytes(40, 30))
    server.start()
    with client(replicate, server) as before:
        file_url = before.upload(upload)
        [image] = before.wait(before.start(replicate.request("a harbour")))
        first = image.content()
    server.kill()
    server.start()
    headers = {"Authorization": f"Bearer {replicate.key}"}
    kept = httpx.get(file_url, headers=headers, timeout=10)
    assert kept.status_code == 200 and kept.json()["size"] == upload.stat().st_size
    content = httpx.get(file_url + "/download", headers=headers, timeout=10)
    assert content.status_code == 200 and content.content == upload.read_bytes()
    again = httpx.get(image.url, timeout=30)
    assert again.status_code == 200 and again.content == first


def test_ark_images_made_before_a_kill_are_served_after_it(server: Server) -> None:
    # Ark answers in the generation reply, so no job outlives its request: what must survive is the images.
    server.start("--timing", "fast")
    body = {"model": "seedream-4-0-250828", "prompt": "a harbour at dawn", "size": "2K"}
    with ArkClient("test-key", base_url=server.url("ark") + "/api/v3", timeout=60.0) as before:
        [image] = before.generate(body)
        first = image.content()
    assert picture(first) == (2048, 2048)
    server.kill()
    server.start("--timing", "fast")
    again = httpx.get(str(image.url), timeout=30)
    assert again.status_code == 200 and again.content == first
    assert server.health()["state"]["unwritten"] == []


def test_ids_drawn_after_a_restart_are_new(server: Server) -> None:
    [evolink] = [surface for surface in surfaces() if surface.name == "evolink"]
    server.start()
    with client(evolink, server) as before:
        first = before.start(evolink.request())
    server.kill()
    server.start()
    with client(evolink, server) as after:
        second = after.start(evolink.request())
        assert second != first
        assert len(after.wait(first)) == 1 and len(after.wait(second)) == 1


def test_without_a_state_directory_a_restart_forgets(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "emulator", "serve", "--port", str(port), "--seed", "7", "--log-level", "warning"]
    [evolink] = [surface for surface in surfaces() if surface.name == "evolink"]
    base = f"http://127.0.0.1:{port}"
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(base)
        with evolink.sync(evolink.key, **evolink.options(base + "/evolink")) as before:
            job_id = before.start(evolink.request())
    finally:
        first.kill()
        first.wait(10)
    second = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(base)
        reply = httpx.get(f"{base}/evolink/v1/tasks/{job_id}", headers={"Authorization": "Bearer k"}, timeout=5)
        assert reply.status_code == 404
        assert httpx.get(base + "/_emulator/health", timeout=5).json()["state"] is None
    finally:
        second.kill()
        second.wait(10)


def _wait_for(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/_emulator/health", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the server did not start")
