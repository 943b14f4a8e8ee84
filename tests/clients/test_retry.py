"""The retry policy and loop, without a server: which outcomes are retried, how long the client waits."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clients import ConnectionFailed, PollTimeout, RateLimited, ServerError
from clients._polling import Deadline
from clients._retry import Attempts, RetryPolicy, Safety, asend, header_retry_after, send
from tests.clients.support import SURFACES, AsyncRecording, Live, Recording, Surface, quick


class Plain:
    name = "test"

    def rate_limited(self, response: httpx.Response) -> bool:
        return response.status_code == 429

    def retry_after(self, response: httpx.Response) -> float | None:
        return header_retry_after(response)


QUICK = RetryPolicy(max_retries=3, initial_delay=0.001, max_delay=0.004)


def attempts(safety: Safety, policy: RetryPolicy = QUICK, deadline: Deadline | None = None) -> Attempts:
    return Attempts(policy, safety, Plain(), random.Random(1), 5.0, deadline)


def response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


@given(st.integers(min_value=0, max_value=30))
def test_backoff_doubles_from_half_a_second_to_eight_with_at_most_a_quarter_of_jitter(retry: int) -> None:
    nominal = min(0.5 * 2**retry, 8.0)
    delay = RetryPolicy().delay(retry, None, random.Random(retry))
    assert nominal <= delay <= nominal * 1.25


@given(st.floats(min_value=0, max_value=10_000, allow_nan=False))
def test_retry_after_is_honoured_exactly_up_to_sixty_seconds(seconds: float) -> None:
    assert RetryPolicy().delay(2, seconds, random.Random()) == min(seconds, 60.0)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert header_retry_after(response(429, **{"Retry-After": "7"})) == 7.0
    assert header_retry_after(response(429, **{"Retry-After": " 1.5 "})) == 1.5
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 28 <= (header_retry_after(response(503, **{"Retry-After": later})) or 0) <= 30
    earlier = format_datetime(datetime.now(UTC) - timedelta(seconds=30), usegmt=True)
    assert header_retry_after(response(503, **{"Retry-After": earlier})) == 0.0
    assert header_retry_after(response(429, **{"Retry-After": "soon"})) is None
    assert header_retry_after(response(429)) is None


@pytest.mark.parametrize(
    ("outcome", "safe", "unsafe"),
    [
        (response(429), True, True),
        (response(503), True, False),
        (response(500), True, False),
        (response(400), False, False),
        (response(401), False, False),
        (response(200), False, False),
        (httpx.ConnectError("refused"), True, True),
        (httpx.ConnectTimeout("slow to connect"), True, True),
        (httpx.ReadError("reset"), True, False),
        (httpx.RemoteProtocolError("server disconnected"), True, False),
        (httpx.ReadTimeout("slow"), True, False),
        (httpx.DecodingError("garbled"), False, False),
    ],
)
def test_only_what_cannot_have_been_carried_out_twice_is_retried(
    outcome: httpx.Response | httpx.RequestError, safe: bool, unsafe: bool
) -> None:
    assert (attempts(Safety.SAFE).next_delay(outcome) is not None) is safe
    assert (attempts(Safety.UNSAFE).next_delay(outcome) is not None) is unsafe


def test_retries_stop_after_max_retries_and_a_reply_remembers_a_possible_duplicate() -> None:
    state = attempts(Safety.SAFE)
    assert [state.next_delay(response(503)) is not None for _ in range(4)] == [True, True, True, False]
    reply = state.result(response(503))
    assert reply.response.status_code == 503 and reply.repeated
    limited = attempts(Safety.SAFE)
    limited.next_delay(response(429))
    assert not limited.result(response(200)).repeated


def test_a_retry_that_would_outlive_the_job_deadline_is_a_poll_timeout() -> None:
    deadline = Deadline(time.monotonic() + 0.5, 0.5, "test", "job-1")
    state = attempts(Safety.SAFE, RetryPolicy(), deadline)
    with pytest.raises(PollTimeout) as caught:
        state.next_delay(response(429, **{"Retry-After": "2"}))
    assert caught.value.job_id == "job-1"
    assert state.timeout() == 1.0  # a poll never outlives the deadline by more than a second


def test_transport_errors_after_the_retries_are_connection_failed() -> None:
    state = attempts(Safety.SAFE)
    with pytest.raises(ConnectionFailed) as caught:
        state.result(httpx.ReadError("reset by peer"))
    assert caught.value.provider == "test" and isinstance(caught.value.__cause__, httpx.ReadError)


def scripted(*statuses: int | type[httpx.TransportError]) -> tuple[list[float], httpx.MockTransport]:
    """A transport answering the given statuses (or raising the given errors) in turn."""
    times: list[float] = []
    script = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(time.monotonic())
        step = script.pop(0)
        if isinstance(step, int):
            return httpx.Response(step, headers={"Retry-After": "0.2"} if step == 429 else {})
        raise step("scripted", request=request)

    return times, httpx.MockTransport(handler)


def build(timeout: float) -> httpx.Request:
    return httpx.Request("GET", "http://test/poll")


def test_the_sync_loop_waits_retry_after_and_returns_the_first_good_reply() -> None:
    times, transport = scripted(429, httpx.ReadError, 503, 200)
    with httpx.Client(transport=transport) as http:
        reply = send(http, build, attempts(Safety.SAFE))
    assert reply.response.status_code == 200 and reply.repeated
    assert times[1] - times[0] >= 0.2


async def test_the_async_loop_makes_the_same_decisions() -> None:
    times, transport = scripted(429, httpx.ConnectError, 200)
    async with httpx.AsyncClient(transport=transport) as http:
        reply = await asend(http, build, attempts(Safety.UNSAFE))
    assert reply.response.status_code == 200 and not reply.repeated
    assert times[1] - times[0] >= 0.2


def test_an_unsafe_call_cut_off_after_sending_is_not_sent_again() -> None:
    times, transport = scripted(httpx.RemoteProtocolError, 200)
    with httpx.Client(transport=transport) as http, pytest.raises(ConnectionFailed):
        send(http, build, attempts(Safety.UNSAFE))
    assert len(times) == 1


# Against the emulator: every client, with the emulator's own fault rules.

by_surface = pytest.mark.parametrize("surface", SURFACES, ids=[surface.name for surface in SURFACES])
RATE_LIMIT_CODES = {"runware": "rateLimitExceeded", "wiro": 0, "evolink": 429, "replicate": None, "fal": "rate_limited"}


@by_surface
def test_a_429_on_create_is_retried_after_exactly_retry_after(live: Live, surface: Surface) -> None:
    live.fault(action="error", surface=surface.name, status=429, retry_after=1, times=1)
    recording = Recording()
    with surface.client(live, transport=recording) as client:
        assert len(client.generate(surface.request())) == 1
    refused, accepted = recording.exchanges[:2]
    assert refused.status == 429 and accepted.status in (200, 201)
    assert accepted.sent - refused.answered >= 1.0
    entries = live.journal(surface.name, surface.create_route)
    assert [entry.status for entry in entries[:2]] == [429, 200 if surface.name != "replicate" else 201]
    assert entries[1].at - entries[0].at >= 1.0


async def test_the_async_client_honours_retry_after_on_polls(live: Live) -> None:
    surface = SURFACES[0]
    recording = AsyncRecording()
    async with surface.async_client(live, transport=recording) as client:
        job_id = await client.start(surface.request())
        live.fault(action="error", surface=surface.name, status=429, retry_after=1, times=1)
        await client.wait(job_id)
    polls = surface.polls(recording.exchanges)
    assert [poll.status for poll in polls] == [429, 200]
    assert polls[1].sent - polls[0].answered >= 1.0


@by_surface
def test_still_rate_limited_after_the_retries_is_rate_limited(live: Live, surface: Surface) -> None:
    live.fault(action="error", surface=surface.name, status=429, retry_after=1, times=2)
    with surface.client(live, max_retries=1) as client, pytest.raises(RateLimited) as caught:
        client.start(surface.request())
    error = caught.value
    assert (error.provider, error.status, error.retry_after, error.code) == (
        surface.name,
        429,
        1.0,
        RATE_LIMIT_CODES[surface.name],
    )
    assert len(live.journal(surface.name)) == 2


@by_surface
def test_a_5xx_on_a_poll_is_retried_and_a_persistent_one_is_server_error(live: Live, surface: Surface) -> None:
    with surface.client(live, max_retries=1) as client:
        job_id = client.start(surface.request())
        live.fault(action="error", surface=surface.name, status=503, times=1)
        assert len(client.wait(job_id)) == 1
        live.fault(action="error", surface=surface.name, status=502, times=2)
        with pytest.raises(ServerError) as caught:
            client.wait(job_id)
    assert caught.value.status == 502 and caught.value.provider == surface.name


@by_surface
def test_a_5xx_on_create_is_retried_only_where_the_create_is_idempotent(live: Live, surface: Surface) -> None:
    live.fault(action="error", surface=surface.name, status=500, times=1)
    with surface.client(live) as client:
        if surface.name == "runware":
            assert len(client.generate(surface.request())) == 1
        else:
            with pytest.raises(ServerError) as caught:
                client.generate(surface.request())
            assert caught.value.status == 500
    creates = live.journal(surface.name, surface.create_route)
    assert len(creates) == (3 if surface.name == "runware" else 1)  # runware: 500, the create, then its poll


@by_surface
def test_a_reset_connection_is_retried_for_polls_but_not_for_non_idempotent_creates(
    live: Live, surface: Surface
) -> None:
    with surface.client(live) as client:
        job_id = client.start(surface.request())
        live.fault(action="disconnect", surface=surface.name, disconnect="reset", times=1)
        assert len(client.wait(job_id)) == 1
        live.fault(action="disconnect", surface=surface.name, disconnect="reset", times=1)
        if surface.name == "runware":
            assert len(client.generate(surface.request())) == 1
        else:
            with pytest.raises(ConnectionFailed):
                client.start(surface.request())


def test_a_refused_connection_is_retried_even_for_a_non_idempotent_create() -> None:
    surface = next(surface for surface in SURFACES if surface.name == "evolink")
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        raise httpx.ConnectError("connection refused", request=request)

    options = surface.options("http://127.0.0.1:9/evolink", transport=httpx.MockTransport(handler), max_retries=2)
    with quick(surface.sync(surface.key, **options)) as client, pytest.raises(ConnectionFailed) as caught:
        client.start(surface.request())
    assert len(calls) == 3 and caught.value.provider == surface.name
