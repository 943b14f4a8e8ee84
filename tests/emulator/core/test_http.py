import asyncio

import httpx
import pytest
from starlette.datastructures import Headers

from emulator.core.http import MalformedForm, Part, is_form, parse_json, read_form


def test_integers_beyond_64_bits_parse_as_numbers_beyond_every_limit() -> None:
    assert parse_json(b'[{"seed": 99999999999999999999}]')[0]["seed"] >= 2**64


@pytest.mark.parametrize("raw", [b"", b"{", b"[1,]", b"\xff\xfe", b"[" * 100_000, b"[NaN]", b"[-Infinity]"])
def test_malformed_json_raises_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_json(raw)


async def test_a_form_gives_its_fields_in_order_with_files_in_memory() -> None:
    request = httpx.Request(
        "POST", "http://x", data={"prompt": "a fox", "size": "2K"}, files={"image": ("a.png", b"PNG", "image/png")}
    )
    pairs = await read_form(Headers(dict(request.headers)), request.read(), max_files=2, max_part_size=1024)
    assert pairs == [("prompt", "a fox"), ("size", "2K"), ("image", Part("a.png", "image/png", b"PNG"))]


async def test_a_url_encoded_form_reads_too() -> None:
    headers = Headers({"content-type": "application/x-www-form-urlencoded"})
    assert is_form(headers)
    assert await read_form(headers, b"a=1&b=two", max_files=0, max_part_size=1024) == [("a", "1"), ("b", "two")]


@pytest.mark.parametrize("raw", [b"--nope\r\n\r\n", b"garbage" * 100])
async def test_a_broken_or_oversized_form_is_malformed(raw: bytes) -> None:
    headers = Headers({"content-type": "multipart/form-data; boundary=x"})
    with pytest.raises(MalformedForm):
        await read_form(headers, raw, max_files=1, max_part_size=8)


async def _read(chunks: list[tuple[float, bytes]], limit: int = 1000) -> bytes:
    """read_body over a request whose chunks arrive after the given pauses."""
    from starlette.requests import Request

    from emulator.core.http import read_body

    pending = list(chunks)

    async def receive() -> dict[str, object]:
        pause, chunk = pending.pop(0)
        await asyncio.sleep(pause)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    return await read_body(Request({"type": "http", "method": "POST", "headers": []}, receive), limit)


async def test_a_slow_body_that_keeps_arriving_is_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.core import http

    monkeypatch.setattr(http, "BODY_IDLE_TIMEOUT", 0.1)
    assert await _read([(0.06, b"a")] * 6) == b"aaaaaa"  # 0.36 s in all, never 0.1 s idle


async def test_a_body_idle_too_long_stalls_and_the_task_is_not_left_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.core import http

    monkeypatch.setattr(http, "BODY_IDLE_TIMEOUT", 0.05)
    with pytest.raises(http.BodyStalled):
        await _read([(0.0, b"a"), (1.0, b"b")])
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    await asyncio.sleep(0)  # still runnable


async def test_cancelling_a_body_read_from_outside_still_cancels() -> None:
    reader = asyncio.ensure_future(_read([(0.0, b"a"), (5.0, b"b")]))
    await asyncio.sleep(0.05)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader


async def test_a_body_whose_first_part_never_comes_stalls(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.core import http

    monkeypatch.setattr(http, "BODY_IDLE_TIMEOUT", 0.05)
    with pytest.raises(http.BodyStalled):
        await asyncio.wait_for(_read([(5.0, b"a")]), 2)


async def test_one_stalled_body_does_not_stop_others_being_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.core import http

    monkeypatch.setattr(http, "BODY_IDLE_TIMEOUT", 0.1)
    stalled = asyncio.ensure_future(_read([(0.0, b"a"), (5.0, b"b")]))
    steady = asyncio.ensure_future(_read([(0.06, b"c")] * 5))
    assert await asyncio.wait_for(steady, 2) == b"ccccc"
    with pytest.raises(http.BodyStalled):
        await asyncio.wait_for(stalled, 2)
    assert await _read([(0.0, b"d")]) == b"d"  # the watch carries on for the next body
