"""Races over real sockets, each resolved one way.

- Duplicate ids: Runware clients choose their taskUUID. Of concurrent creates with one UUID, over REST and the
  WebSocket at once, exactly one is accepted; every other gets `conflictTaskUUID`, and getResponse shows the
  accepted task.
- Cancel vs completion (Replicate `/cancel`, Wiro Task/Cancel then Task/Kill): whatever the cancel answers holds.
  Cancelled: every later poll shows the job cancelled, without outputs. Too late: it stays as it ended.
- Poll vs completion (every surface): a poll never shows a finished job without all its results.

Timing is real (the system clock): cancels are aimed at the moments jobs start and end, spread on both sides, so
that some land before and some after; the emulator's state lives on one event loop, so each request sees one
moment of a job, and the checks say which moments may follow which (`bench/concurrency.py`).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from bench.concurrency import PROBES, Job, Observation, Probe, Replicate, Seen, Wiro, judge
from conformance.server import EmulatorServer
from emulator.core.jobs import Job as EngineJob
from emulator.core.timing import TimingProfile

BEARER = {"Authorization": "Bearer race-key"}
BRISK = TimingProfile("brisk", 0.1, 0.2, 0.02, 0.5)
SPREAD = 0.25


@pytest.fixture(scope="module")
def live() -> Iterator[EmulatorServer]:
    """Jobs of 0.3 s to 1.5 s: long enough to be polled and cancelled on their way, short enough for the suite."""
    with EmulatorServer(timing="realistic") as server:
        server.runtime.timing = BRISK
        yield server


# -- duplicate ids -----------------------------------------------------------------------------------------------


def inference(task_uuid: str, seed: int) -> dict[str, Any]:
    return {
        "taskType": "imageInference",
        "taskUUID": task_uuid,
        "model": "bytedance:5@0",
        "positivePrompt": "a kite over the dunes",
        "width": 1024,
        "height": 1024,
        "seed": seed,
        "deliveryMethod": "async",
    }


def over_rest(base: str, task: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = httpx.post(f"{base}/runware/v1", json=[task], headers=BEARER, timeout=30).json()
    return reply


def over_socket(ws_base: str, task: dict[str, Any]) -> dict[str, Any]:
    with connect(f"{ws_base}/runware/v1", open_timeout=30) as socket:
        socket.send(json.dumps([{"taskType": "authentication", "apiKey": "race-key"}]))
        assert "errors" not in json.loads(socket.recv(timeout=30))
        socket.send(json.dumps([task]))
        reply: dict[str, Any] = json.loads(socket.recv(timeout=30))
        return reply


@pytest.mark.parametrize("transports", ["rest", "rest+websocket"])
def test_of_concurrent_creates_with_one_task_uuid_exactly_one_is_accepted(
    live: EmulatorServer, transports: str
) -> None:
    task_uuid = str(uuid.uuid4())
    start = threading.Barrier(16)

    def create(seed: int) -> dict[str, Any]:
        task = inference(task_uuid, seed)
        start.wait()
        if transports == "rest+websocket" and seed % 2:
            return over_socket(live.ws_base, task)
        return over_rest(live.base, task)

    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(create, range(16)))
    accepted = [seed for seed, reply in enumerate(replies) if "data" in reply]
    refused = [reply["errors"][0]["code"] for reply in replies if "errors" in reply]
    assert len(accepted) == 1, replies
    assert refused == ["conflictTaskUUID"] * 15
    jobs = live.run(lambda: [job.id for job in live.runtime.jobs if job.id == task_uuid])
    assert jobs == [task_uuid]
    live.run(lambda: finish(live, task_uuid))
    polled = over_rest(live.base, {"taskType": "getResponse", "taskUUID": task_uuid})
    assert [(item["status"], item["seed"]) for item in polled["data"]] == [("success", accepted[0])]


def finish(live: EmulatorServer, job_id: str) -> None:
    """Carry out the rest of a job's plan now (on the server's loop): no need to wait for it."""
    job = live.runtime.jobs.get(job_id)
    assert job is not None
    while job.advance(live.runtime.clock.now()):
        pass


def test_duplicates_within_one_request_array_conflict_too(live: EmulatorServer) -> None:
    task_uuid = str(uuid.uuid4())
    reply = httpx.post(
        f"{live.base}/runware/v1", json=[inference(task_uuid, 1), inference(task_uuid, 2)], headers=BEARER
    ).json()
    assert [item["taskUUID"] for item in reply["data"]] == [task_uuid]
    assert [error["code"] for error in reply["errors"]] == ["conflictTaskUUID"]


# -- cancel vs completion ----------------------------------------------------------------------------------------


def engine_job(live: EmulatorServer, surface: str, job_id: str) -> EngineJob:
    """The core job behind a surface's job id (Wiro's task id names a task whose job is its uuid)."""

    def find() -> EngineJob:
        wiro = surface == "wiro"
        job = live.surface("wiro").service.tasks.get(job_id).job if wiro else live.runtime.jobs.get(job_id)
        assert job is not None
        return job

    return live.run(find)


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("probe_type", [Replicate, Wiro], ids=["replicate", "wiro"])
def test_a_cancel_racing_the_start_or_the_end_of_a_job_is_answered_once_and_for_all(
    live: EmulatorServer, probe_type: type[Probe]
) -> None:
    probe = probe_type(live.base)
    attempts = 24
    with httpx.Client(timeout=30) as http:
        pilot = probe.create(http, random.Random(0), "a pilot kite", 1)
        job = engine_job(live, probe.name, pilot)
        wait_until(lambda: job.state.terminal)
    assert job.started_at is not None and job.finished_at is not None
    starts, ends = job.started_at - job.created_at, job.finished_at - job.created_at
    # Aimed at the start (Wiro: Cancel takes a queued task, Kill a running one) and at the end, from SPREAD before to
    # SPREAD after: those aimed at the start are cancelled, those aimed well after the end are too late.
    aims = [
        (starts if index % 2 else ends) + SPREAD * (2 * (index // 2) / (attempts // 2 - 1) - 1)
        for index in range(attempts)
    ]
    observations: list[Observation] = []
    lock = threading.Lock()
    ids: list[str] = []
    cancelling = threading.Event()

    def record(observation: Observation) -> None:
        with lock:
            observations.append(observation)

    def cancel(index: int) -> None:
        with httpx.Client(timeout=30) as http:
            job_id = probe.create(http, random.Random(0), f"a kite, attempt {index}", 1)  # the pilot's size
            created = engine_job(live, probe.name, job_id).created_at
            with lock:
                ids.append(job_id)
            time.sleep(max(0.0, created + aims[index] - time.time()))  # the server's clock is the system clock
            sent = time.perf_counter()
            seen = probe.cancel(http, job_id)
            record(Observation(job_id, 100 + index, sent, time.perf_counter(), seen, cancel=True))

    def poll(thread: int) -> None:
        own = random.Random(thread)
        with httpx.Client(timeout=30) as http:
            while cancelling.is_set() or not ids:
                with lock:
                    job_id = own.choice(ids) if ids else None
                if job_id is None:
                    time.sleep(0.01)
                    continue
                sent = time.perf_counter()
                seen = probe.poll(http, job_id)
                record(Observation(job_id, thread, sent, time.perf_counter(), seen))

    cancelling.set()
    with ThreadPoolExecutor(attempts + 4) as pool:
        pollers = [pool.submit(poll, thread) for thread in range(4)]
        for each in [pool.submit(cancel, index) for index in range(attempts)]:
            each.result()
        time.sleep(0.3)
        cancelling.clear()
        for each in pollers:
            each.result()
    with httpx.Client(timeout=30) as http:
        for job_id in ids:  # Wiro stores outputs after the end: wait for the last word
            wait_until(lambda: probe.poll(http, job_id).terminal)  # noqa: B023 (used at once)
            sent = time.perf_counter()
            seen = probe.poll(http, job_id)
            record(Observation(job_id, 99, sent, time.perf_counter(), seen))

    problems, _ = judge(observations, {job_id: Job(job_id, "cancel", 1) for job_id in ids})
    assert problems == [], "\n".join(problems)
    verdicts = {o.job: o.seen for o in observations if o.cancel}
    finals = {o.job: o.seen for o in observations if o.thread == 99}
    assert len(verdicts) == len(finals) == attempts
    for job_id, verdict in verdicts.items():
        final = finals[job_id]
        assert final.canceled == verdict.canceled, (verdict, final)
        assert final.outputs == (0 if final.canceled else 1), final
    assert 0 < sum(verdict.canceled for verdict in verdicts.values()) < attempts  # the race went both ways


# -- poll vs completion ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("surface", sorted(PROBES))
def test_a_poll_racing_completion_never_shows_a_finished_job_without_all_its_results(
    live: EmulatorServer, surface: str
) -> None:
    probe = PROBES[surface](live.base)
    jobs: dict[str, Job] = {}
    observations: list[Observation] = []
    lock = threading.Lock()
    creating = threading.Event()
    creating.set()

    def create() -> None:
        rng = random.Random(5)
        with httpx.Client(timeout=30) as http:
            for index in range(8):  # Wiro renders each image once it ends (to learn its size): a few only
                images = 2 + index % 2 * (surface != "wiro")
                job_id = probe.create(http, rng, f"a kite, generate {images} images", images)
                with lock:
                    jobs[job_id] = Job(job_id, "plain", images)
        creating.clear()

    def poll(thread: int) -> None:
        """Polls every job from its creation (however loaded the machine) until it ends."""
        own = random.Random(thread)
        ended: set[str] = set()
        deadline = time.monotonic() + 30
        with httpx.Client(timeout=30) as http:
            while time.monotonic() < deadline:
                with lock:
                    waiting = sorted(set(jobs) - ended)
                if not waiting:
                    if not creating.is_set():
                        return
                    time.sleep(0.005)
                    continue
                job_id = own.choice(waiting)
                sent = time.perf_counter()
                seen = probe.poll(http, job_id)
                with lock:
                    observations.append(Observation(job_id, thread, sent, time.perf_counter(), seen))
                if seen.terminal:
                    ended.add(job_id)

    with ThreadPoolExecutor(7) as pool:
        pollers = [pool.submit(poll, thread) for thread in range(6)]
        pool.submit(create).result()
        for each in pollers:
            each.result()
    problems, _ = judge(observations, jobs)
    assert problems == []
    last: dict[str, Seen] = {}
    crossed = set()
    for observation in sorted(observations, key=lambda o: o.sent):
        before = last.get(observation.job)
        if before is not None and not before.terminal and observation.seen.terminal:
            crossed.add(observation.job)
        last[observation.job] = observation.seen
    assert len(last) == len(jobs) and all(seen.success for seen in last.values()), last
    assert len(crossed) >= len(jobs) // 2  # polls straddled most completions
