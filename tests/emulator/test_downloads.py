"""Downloads of generated images: the bytes `render` makes, sent in pieces, while other requests go on being served."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

import emulator.core.artifacts as artifacts_module
from emulator.core.padding import Pieces
from emulator.core.render import GenerationSpec, render, render_pieces
from tests.conftest import Emulator
from tests.emulator.providers.runware.conftest import Runware
from tests.support import inference

FORMATS = {"JPG": "jpg", "PNG": "png", "WEBP": "webp"}


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


async def test_requests_are_answered_while_an_image_renders(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A render holds no request up: one arriving while a 4K image renders is answered before the render ends."""
    release, started = threading.Event(), threading.Event()
    priorities: list[int] = []

    def held_render(spec: GenerationSpec, *, realistic_size: bool = True) -> Pieces:
        if sys.platform.startswith("linux"):
            priorities.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        started.set()
        # Bounded, so that a render on the event loop fails the test below instead of hanging it.
        release.wait(timeout=10)
        return render_pieces(spec, realistic_size=realistic_size)

    monkeypatch.setattr(artifacts_module, "render_pieces", held_render)
    runware = Runware(emulator)
    [item] = (await runware.create(inference(outputFormat="PNG", width=4096, height=4096))).json()["data"]
    download = asyncio.create_task(emulator.client.get(item["imageURL"]))
    while not started.is_set():
        await asyncio.sleep(0.01)

    answer = await runware.create(inference())
    assert answer.status_code == 200
    assert not download.done(), "the request waited for the render"
    release.set()
    assert (await download).content == render(spec_of(emulator, item["imageURL"]))
    if priorities:  # Linux: the render thread gives way to the event loop's thread for the CPU
        assert priorities[0] > os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
