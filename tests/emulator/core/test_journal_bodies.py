"""The journal keeps what was sent and answered, within a size per body and a budget for all of them."""

from __future__ import annotations

import hashlib
import tracemalloc

import orjson
from hypothesis import given
from hypothesis import strategies as st

from emulator.core.journal import BODY_BUDGET, BODY_HEAD, HASH_BATCH, Body, Journal


def body(data: bytes, media_type: bytes = b"application/json", chunk: int = 1000) -> Body:
    kept = Body.of([(b"Content-Type", media_type + b"; charset=utf-8"), (b"Authorization", b"Bearer sk-live-123")])
    for start in range(0, len(data), chunk):
        kept.feed(data[start : start + chunk])
    return kept.close()


def test_a_small_body_is_kept_whole_and_secrets_in_headers_are_masked() -> None:
    kept = body(b'{"prompt": "<script>alert(1)</script>"}').as_dict()
    assert kept["text"] == '{"prompt": "<script>alert(1)</script>"}'
    assert kept["truncated"] is False and kept["sha256"] is None and kept["media_type"] == "application/json"
    assert ["authorization", "Bearer sk-l…"] in kept["headers"]
    assert not any("123" in value for _, value in kept["headers"])


@given(size=st.integers(min_value=0, max_value=3 * BODY_HEAD), chunk=st.integers(min_value=1, max_value=BODY_HEAD))
def test_a_big_body_is_its_size_hash_and_head(size: int, chunk: int) -> None:
    data = bytes(index % 251 for index in range(size))
    kept = body(data, b"text/plain", chunk)
    assert kept.size == size and kept.head == data[:BODY_HEAD]
    assert kept.sha256 == (hashlib.sha256(data).hexdigest() if size > BODY_HEAD else None)


async def test_a_body_bigger_than_a_hash_batch_is_hashed_off_the_loop_to_the_same_digest() -> None:
    data = bytes(index % 253 for index in range(3 * HASH_BATCH + 12345))
    kept = Body.of([(b"Content-Type", b"application/json")])
    batches = 0
    for start in range(0, len(data), 65536):
        kept.feed(data[start : start + 65536])
        if kept.hash_due:
            await kept.hash_pending()
            batches += 1
    assert batches == 3
    assert kept.close().sha256 == hashlib.sha256(data).hexdigest()


def test_binary_bodies_are_recorded_as_size_and_type_only() -> None:
    kept = body(b"\xff\xd8" * 5000, b"image/jpeg").as_dict()
    assert kept["text"] is None and kept["size"] == 10_000 and kept["media_type"] == "image/jpeg"
    assert kept["sha256"] is None and kept["truncated"] is True


def test_the_journal_lets_go_of_the_oldest_bodies_beyond_its_budget_but_keeps_the_entries() -> None:
    journal = Journal()
    each = body(b"x" * BODY_HEAD, b"text/plain").held  # the head and the headers
    count = 2 * BODY_BUDGET // each
    for index in range(count):
        entry = journal.open(float(index), "http", "POST", "/x")
        journal.keep_bodies(entry, body(b"x" * BODY_HEAD, b"text/plain"), None)
    assert journal.body_bytes <= BODY_BUDGET
    assert journal.bodies_dropped == count - BODY_BUDGET // each
    assert len(journal) == count
    first, last = journal.get(1), journal.get(len(journal))
    assert first is not None and first.detail()["request_body"] is None
    assert last is not None and last.detail()["request_body"]["size"] == BODY_HEAD
    assert "request_body" not in last.as_dict()


def test_entries_are_found_by_seq_after_old_ones_left() -> None:
    journal = Journal(max_entries=3)
    for index in range(5):
        journal.open(float(index), "http", "GET", f"/p{index}")
    assert journal.get(2) is None and journal.get(6) is None
    found = journal.get(4)
    assert found is not None and found.path == "/p3"


def test_credentials_inside_a_body_are_masked_when_read() -> None:
    """Runware's authentication task carries the API key in the body; the journal shows keys masked everywhere."""
    frame = b'[{"taskType": "authentication", "apiKey": "sk-live-123456"}, {"positivePrompt": "apiKey"}]'
    text = body(frame).as_dict()["text"]
    assert "123456" not in text and '"apiKey": "sk-l…"' in text and '"positivePrompt": "apiKey"' in text
    form = body(b"prompt=a+fox&apiKey=sk-live-123456&size=2K", b"application/x-www-form-urlencoded").as_dict()
    assert form["text"] == "prompt=a+fox&apiKey=sk-l…&size=2K"


TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-!#$%&'*+.^_`|~", min_size=1, max_size=20)
VALUE = st.binary(max_size=60).map(lambda raw: bytes(byte for byte in raw if byte not in b"\x00\x01\r\n"))


@given(headers=st.lists(st.tuples(TOKEN.map(str.encode), VALUE), max_size=12))
def test_headers_are_read_back_as_they_came(headers: list[tuple[bytes, bytes]]) -> None:
    assert Body.of(headers).headers == headers


def test_a_kept_reply_holds_its_bytes_not_the_buffer_they_were_written_into() -> None:
    # orjson grows its output to 4 KiB before it knows the size; a 238-byte Runware reply kept that whole buffer.
    tracemalloc.start()
    kept = []
    for index in range(2000):
        record = Body.of([(b"content-type", b"application/json")])
        record.feed(orjson.dumps({"data": [{"taskUUID": str(index), "imageURL": "http://x/files/y.jpg"}]}))
        kept.append(record.close())
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert held / len(kept) < 1024, held / len(kept)
