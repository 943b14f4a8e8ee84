"""Concurrency: many threads polling many async jobs of a real server, every reply checked against what came before.

    python -m bench.concurrency                       # per surface: 500 jobs, then 16 threads x 2,000 polls
    python -m bench.concurrency --jobs 50 --threads 4 --polls 150 --surface wiro

Against a real uvicorn server on a free port (in this process, `realistic` timing so that jobs move while they are
polled), for each surface: create `--jobs` async jobs from `--threads` threads at once (Runware `imageInference`
with `deliveryMethod: async`, a Wiro Run, an EvoLink task, a Replicate prediction), a mix of plain ones (1-4 images,
1K-4K), ones asked to fail (`[[emulator:fail=content_policy]]`), ones asked to stall (queued or running) and, where
the surface can cancel (Wiro Task/Cancel then Task/Kill, Replicate `/cancel`), ones some thread cancels while
polling; then `--threads` threads each poll `--polls` random jobs (Runware `getResponse`, Wiro `Task/Detail`,
EvoLink `GET /v1/tasks/{id}`, Replicate `GET /v1/predictions/{id}`).

Polling may miss short states, so an observation is impossible only when it cannot follow one seen before it:
- by the same thread, or by any thread whose reply arrived before this request was sent (causality: the server had
  already shown the earlier state when it received this one);
- a status going backwards in the provider's documented order, a terminal status changing, outputs (results,
  images) or logs shrinking or being rewritten, EvoLink `progress` or Wiro `elapsedseconds` decreasing, a timestamp
  once set changing;
- a reply inconsistent in itself: a finished job without all its results, a cancelled or failed one with outputs,
  a Wiro number that is not a string, an HTTP status the surface does not answer a poll with;
- a job asked to fail that succeeds, a stalled one that ends without being cancelled;
- after a cancel's reply: it said cancelled, yet a later poll shows another state or outputs; it came too late
  (the job had ended), yet a later poll shows it cancelled.

Printed per surface, as a Markdown table: jobs, polls, req/s (polls per second of the polling phase, all threads),
p50/p99 poll latency, transitions seen (a thread's poll showing another status or output count than its previous
poll of the job: proof that states moved while being polled) and impossible observations, which must be 0, each
then described on stderr. Nothing is written anywhere. `tests/bench/test_concurrency.py` runs a short version on
every `pytest` and fails on any impossible observation.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
import sys
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from clients.wiro import sign
from conformance.server import EmulatorServer
from contracts.counts import ask

SURFACES = ("runware", "wiro", "evolink", "replicate")
PROMPT = "a lighthouse on a basalt cliff at dusk, long exposure"
FAIL = "[[emulator:fail=content_policy]]"
STALL = {"queued": "[[emulator:stall=queued]]", "running": "[[emulator:stall=running]]"}
# A job asked to be cancelled is cancelled by the thread that polls it when this coin comes up: on average at its
# 8th poll, so that cancels land while jobs are queued, running, finishing and finished.
CANCEL_CHANCE = 1 / 8
WIRO_KEY, WIRO_SECRET = "wiro-dev-key", "wiro-dev-secret"
BEARER = {"Authorization": "Bearer concurrency-bench"}


# -- what a reply shows ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One reply reduced to what may only move forward, and what is wrong with it on its own."""

    status: str
    rank: int  # position of `status` in the provider's documented order
    terminal: bool
    outputs: int = 0
    log: str = ""
    # Numbers that never decrease (EvoLink progress, Wiro elapsedseconds).
    counters: tuple[tuple[str, float], ...] = ()
    # Values that never change once the reply shows them (timestamps).
    fixed: tuple[tuple[str, str], ...] = ()
    problems: tuple[str, ...] = ()
    success: bool = False
    canceled: bool = False

    def merge(self, other: Seen) -> Seen:
        """The furthest point of two observations of one job: what every later one must have reached."""
        terminal = self if self.terminal else other
        return Seen(
            status=terminal.status if terminal.terminal else max(self, other, key=lambda seen: seen.rank).status,
            rank=max(self.rank, other.rank),
            terminal=self.terminal or other.terminal,
            outputs=max(self.outputs, other.outputs),
            log=max(self.log, other.log, key=len),
            counters=tuple((name, max(dict(self.counters).get(name, value), value)) for name, value in other.counters)
            + tuple((name, value) for name, value in self.counters if name not in dict(other.counters)),
            fixed=tuple({**dict(other.fixed), **dict(self.fixed)}.items()),
            success=terminal.success,
            canceled=terminal.canceled,
        )


def impossible(before: Seen, after: Seen) -> list[str]:
    """Why `after` cannot follow `before` for one job (empty when it can)."""
    found = []
    if before.terminal and after.status != before.status:
        found.append(f"terminal {before.status} became {after.status}")
    elif after.rank < before.rank:
        found.append(f"status went back from {before.status} to {after.status}")
    if after.outputs < before.outputs:
        found.append(f"outputs shrank from {before.outputs} to {after.outputs}")
    if not after.log.startswith(before.log):
        found.append(f"log rewritten ({len(before.log)} chars no longer a prefix of {len(after.log)})")
    counters = dict(after.counters)
    for name, value in before.counters:
        if counters.get(name, value) < value:
            found.append(f"{name} went from {value} to {counters[name]}")
    fixed = dict(after.fixed)
    for name, text in before.fixed:
        if fixed.get(name, text) != text:
            found.append(f"{name} changed from {text} to {fixed[name]}")
    return found


def broken(status: int, reason: str) -> Seen:
    return Seen(f"HTTP {status}", -1, False, problems=(reason,))


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


# -- the four surfaces -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    id: str
    kind: str  # plain, fail, stall, cancel
    images: int


class Probe(ABC):
    """How one surface creates, polls and cancels, and how its replies read."""

    name = ""
    can_cancel = False

    def __init__(self, base: str) -> None:
        self.base = base + "/" + self.name

    @abstractmethod
    def create(self, http: httpx.Client, rng: random.Random, prompt: str, images: int) -> str: ...

    @abstractmethod
    def poll(self, http: httpx.Client, job_id: str) -> Seen: ...

    def cancel(self, http: httpx.Client, job_id: str) -> Seen:
        """The job as the cancel's reply shows it: `canceled` when it was cancelled, else the state it had reached
        (a cancel that came too late changes nothing). Only surfaces that document a cancel (`can_cancel`) have one."""
        raise TypeError(f"{self.name} documents no cancel")


class Runware(Probe):
    """`getResponse` answers every image so far: `success` items, a `processing` item per image still to come, and
    an error item once the task failed. Runware documents no cancel."""

    name = "runware"

    def create(self, http: httpx.Client, rng: random.Random, prompt: str, images: int) -> str:
        task_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        width, height = rng.choice([(1024, 1024), (2048, 2048), (2304, 1728), (4096, 4096)])
        # Inline outputs render their image while the reply is built (the poll yields meanwhile): small ones only.
        output = rng.choice(["URL", "base64Data", "dataURI"]) if width == 1024 else "URL"
        task = {
            "taskType": "imageInference",
            "taskUUID": task_uuid,
            "model": "bytedance:5@0",
            "positivePrompt": prompt,
            "width": width,
            "height": height,
            "deliveryMethod": "async",
            "outputType": output,
            "providerSettings": {"bytedance": {"maxSequentialImages": images}},
        }
        response = http.post(self.base + "/v1", json=[task], headers=BEARER)
        assert response.status_code == 200, response.text
        return task_uuid

    def poll(self, http: httpx.Client, job_id: str) -> Seen:
        response = http.post(self.base + "/v1", json=[{"taskType": "getResponse", "taskUUID": job_id}], headers=BEARER)
        return self.read(response, job_id)

    @staticmethod
    def read(response: httpx.Response, job_id: str) -> Seen:
        body = body_of(response)
        if not isinstance(body, dict) or response.status_code not in (200, 400):
            return broken(response.status_code, f"getResponse answered HTTP {response.status_code}")
        items, errors = body.get("data") or [], body.get("errors") or []
        problems = [f"item of another task: {item}" for item in items + errors if item.get("taskUUID") != job_id]
        done = sum(item.get("status") == "success" for item in items)
        pending = sum(item.get("status") == "processing" for item in items)
        problems += [
            f"success item without its image: {item}"
            for item in items
            if item.get("status") == "success" and not {"imageURL", "imageBase64Data", "imageDataURI"} & set(item)
        ]
        if errors:
            if response.status_code != 400 and not items:
                problems.append(f"error items under HTTP {response.status_code}")
            if pending:
                problems.append("a failed task still has processing items")
            return Seen(f"error:{errors[0].get('code')}", 2, True, done, problems=tuple(problems))
        if not items:
            problems.append("getResponse answered nothing")
        if done and not pending:
            return Seen("success", 2, True, done, problems=tuple(problems), success=True)
        return Seen("processing", 1, False, done, problems=tuple(problems))


WIRO_ORDER = {
    # Wiro's documented order (docs/wiro.md, shared/providers/wiro.md §4.1); task_output and task_error interleave.
    "task_queue": 0,
    "task_accept": 1,
    "task_preprocess_start": 2,
    "task_preprocess_end": 3,
    "task_assign": 4,
    "task_start": 5,
    "task_output": 6,
    "task_error": 6,
    "task_output_full": 7,
    "task_error_full": 8,
    "task_end": 9,
    "task_postprocess_start": 10,
    "task_postprocess_end": 11,
    "task_cancel": 11,
}
WIRO_TERMINAL = ("task_postprocess_end", "task_cancel")
WIRO_STAMPS = (
    "createtime",
    "accepttime",
    "preprocessstarttime",
    "preprocessendtime",
    "assigntime",
    "starttime",
    "endtime",
    "postprocessstarttime",
    "postprocessendtime",
    "canceltime",
)
# Numbers Wiro writes as strings (elapsedseconds "0.0072", pexit "0", size "202472", ...).
WIRO_STRINGS = ("id", "elapsedseconds", "cps", "totalcost", "projectid", "modelid", "basemodelid", "pexit", "size")
WIRO_OUTPUT_STRINGS = ("size", "foldercount", "filecount")


class Wiro(Probe):
    """Task/Detail's record; Task/Cancel takes a queued task, Task/Kill a running one."""

    name = "wiro"
    can_cancel = True
    _nonces = itertools.count(time.time_ns() // 1_000_000)

    def headers(self) -> dict[str, str]:
        nonce = str(next(self._nonces))  # itertools.count is atomic under the GIL: no nonce is sent twice
        return {"x-api-key": WIRO_KEY, "x-nonce": nonce, "x-signature": sign(WIRO_KEY, WIRO_SECRET, nonce)}

    def create(self, http: httpx.Client, rng: random.Random, prompt: str, images: int) -> str:
        size = rng.choice(["2048x2048", "2304x1728", "2560x1440", "3024x1296"])
        body = {"prompt": prompt, "size": size, "maxImages": images}
        response = http.post(self.base + "/v1/Run/bytedance/seedream-v4", json=body, headers=self.headers())
        reply = response.json()
        assert reply.get("result") is True, reply
        return str(reply["taskid"])

    def poll(self, http: httpx.Client, job_id: str) -> Seen:
        response = http.post(self.base + "/v1/Task/Detail", json={"taskid": job_id}, headers=self.headers())
        return self.read(response)

    def cancel(self, http: httpx.Client, job_id: str) -> Seen:
        for action in ("Cancel", "Kill"):
            response = http.post(self.base + f"/v1/Task/{action}", json={"taskid": job_id}, headers=self.headers())
            body = body_of(response)
            if isinstance(body, dict) and body.get("result") is True:
                seen = self.read(response)
                if not seen.canceled:
                    return replace_problems(seen, f"Task/{action} succeeded but the task is {seen.status}")
                return seen
        # Refused twice: not queued, then not running (the Cancel may have lost a race with the start): it ended.
        seen = self.poll(http, job_id)
        if not seen.terminal and seen.status != "task_postprocess_start":
            return replace_problems(seen, f"Task/Cancel and Task/Kill refused a task in {seen.status}")
        return seen

    @staticmethod
    def read(response: httpx.Response) -> Seen:
        body = body_of(response)
        if response.status_code != 200 or not isinstance(body, dict) or body.get("result") is not True:
            return broken(response.status_code, f"Task/* answered HTTP {response.status_code}: {str(body)[:200]}")
        task = body["tasklist"][0]
        status = task.get("status")
        problems = []
        if "total" in body and not isinstance(body["total"], str):
            problems.append(f"total is {body['total']!r}, not a string")
        for name in (*WIRO_STRINGS, *WIRO_STAMPS):
            if not isinstance(task.get(name), str):
                problems.append(f"{name} is {task.get(name)!r}, not a string")
        problems += [
            f"parameters.{k} is {v!r}" for k, v in task.get("parameters", {}).items() if not isinstance(v, str)
        ]
        outputs = task.get("outputs") or []
        for output in outputs:
            problems += [
                f"outputs[].{k} is {output.get(k)!r}" for k in WIRO_OUTPUT_STRINGS if not isinstance(output.get(k), str)
            ]
        if status not in WIRO_ORDER:
            problems.append(f"unknown status {status!r}")
        success = status == "task_postprocess_end" and task.get("pexit") == "0"
        if success and not outputs:
            problems.append("task_postprocess_end with pexit 0 but no outputs")
        if outputs and not success:
            problems.append(f"{status} (pexit {task.get('pexit')!r}) with outputs")
        if status == "task_cancel" and task.get("canceltime") == "0":
            problems.append("task_cancel without a canceltime")
        fixed = tuple(
            (name, task[name]) for name in WIRO_STAMPS if isinstance(task.get(name), str) and task[name] != "0"
        )
        return Seen(
            str(status),
            WIRO_ORDER.get(str(status), -1),
            status in WIRO_TERMINAL,
            len(outputs),
            log=str(task.get("debugoutput", "")),
            counters=(("elapsedseconds", float(task["elapsedseconds"])),)
            if isinstance(task.get("elapsedseconds"), str)
            else (),
            fixed=fixed,
            problems=tuple(problems),
            success=success,
            canceled=status == "task_cancel",
        )


EVOLINK_ORDER = {"pending": 0, "processing": 1, "completed": 2, "failed": 2, "cancelled": 2}


class EvoLink(Probe):
    """`GET /v1/tasks/{id}`: pending, processing, then completed (with `results`), failed or cancelled; `progress`
    0..100 never decreases. EvoLink has no cancel endpoint for image tasks."""

    name = "evolink"

    def create(self, http: httpx.Client, rng: random.Random, prompt: str, images: int) -> str:
        body = {
            "model": "doubao-seedream-4.0",
            "prompt": prompt,
            "n": images,
            "size": rng.choice(["1:1", "4:3", "16:9"]),
            "quality": rng.choice(["1K", "2K", "4K"]),
        }
        response = http.post(self.base + "/v1/images/generations", json=body, headers=BEARER)
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def poll(self, http: httpx.Client, job_id: str) -> Seen:
        response = http.get(self.base + f"/v1/tasks/{job_id}", headers=BEARER)
        body = body_of(response)
        if response.status_code != 200 or not isinstance(body, dict):
            return broken(response.status_code, f"task query answered HTTP {response.status_code}: {str(body)[:200]}")
        status = str(body.get("status"))
        progress = body.get("progress")
        results = body.get("results")
        problems = []
        if status not in EVOLINK_ORDER:
            problems.append(f"unknown status {status!r}")
        if not isinstance(progress, int) or not 0 <= progress <= 100:
            problems.append(f"progress {progress!r}")
            progress = None
        if status == "completed" and (not results or progress != 100):
            problems.append(f"completed with results {results!r} and progress {progress}")
        if status != "completed" and results:
            problems.append(f"{status} with results")
        if status in ("failed", "cancelled") and not isinstance(body.get("error"), dict):
            problems.append(f"{status} without an error")
        if status == "pending" and progress != 0:
            problems.append(f"pending at progress {progress}")
        return Seen(
            status,
            EVOLINK_ORDER.get(status, -1),
            status in ("completed", "failed", "cancelled"),
            len(results or []),
            counters=(("progress", progress),) if progress is not None else (),
            problems=tuple(problems),
            success=status == "completed",
            canceled=status == "cancelled",
        )


REPLICATE_ORDER = {"starting": 0, "processing": 1, "succeeded": 2, "failed": 2, "canceled": 2, "aborted": 2}


class Replicate(Probe):
    """`GET /v1/predictions/{id}`: starting, processing, then succeeded (with `output`), failed or canceled; `logs`
    only grow. `POST /v1/predictions/{id}/cancel` answers the prediction as it is after the cancel."""

    name = "replicate"
    can_cancel = True

    def create(self, http: httpx.Client, rng: random.Random, prompt: str, images: int) -> str:
        body = {
            "input": {
                "prompt": prompt,
                "size": rng.choice(["1K", "2K", "4K"]),
                "sequential_image_generation": "auto" if images > 1 else "disabled",
                "max_images": images,
            }
        }
        response = http.post(self.base + "/v1/models/bytedance/seedream-4/predictions", json=body, headers=BEARER)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def poll(self, http: httpx.Client, job_id: str) -> Seen:
        return self.read(http.get(self.base + f"/v1/predictions/{job_id}", headers=BEARER))

    def cancel(self, http: httpx.Client, job_id: str) -> Seen:
        seen = self.read(http.post(self.base + f"/v1/predictions/{job_id}/cancel", headers=BEARER))
        if not seen.terminal:
            return replace_problems(seen, f"the cancel answered a prediction still {seen.status}")
        return seen

    @staticmethod
    def read(response: httpx.Response) -> Seen:
        body = body_of(response)
        if response.status_code != 200 or not isinstance(body, dict):
            return broken(response.status_code, f"prediction answered HTTP {response.status_code}: {str(body)[:200]}")
        status = str(body.get("status"))
        output = body.get("output")
        problems = []
        if status not in REPLICATE_ORDER:
            problems.append(f"unknown status {status!r}")
        terminal = REPLICATE_ORDER.get(status) == 2
        if status == "succeeded" and not output:
            problems.append(f"succeeded with output {output!r}")
        if status != "succeeded" and output:
            problems.append(f"{status} with output")
        if status == "failed" and not body.get("error"):
            problems.append("failed without an error")
        if terminal != ("completed_at" in body):
            problems.append(f"{status} and completed_at {body.get('completed_at')!r}")
        fixed = tuple((name, body[name]) for name in ("started_at", "completed_at") if name in body)
        return Seen(
            status,
            REPLICATE_ORDER.get(status, -1),
            terminal,
            len(output or []),
            log=str(body.get("logs") or ""),
            fixed=fixed,
            problems=tuple(problems),
            success=status == "succeeded",
            canceled=status in ("canceled", "aborted"),
        )


PROBES: dict[str, type[Probe]] = {"runware": Runware, "wiro": Wiro, "evolink": EvoLink, "replicate": Replicate}


def replace_problems(seen: Seen, problem: str) -> Seen:
    return replace(seen, problems=(*seen.problems, problem))


# -- the run -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    job: str
    thread: int
    sent: float
    received: float
    seen: Seen
    cancel: bool = False


@dataclass
class Result:
    surface: str
    jobs: int
    polls: int
    cancels: int
    seconds: float
    latencies: list[float]
    transitions: int
    problems: list[str] = field(default_factory=list)

    @property
    def impossible(self) -> int:
        return len(self.problems)

    def per_second(self) -> float:
        return self.polls / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def plan_jobs(count: int, rng: random.Random, can_cancel: bool) -> list[tuple[str, int, str]]:
    """(kind, images, prompt) of each job: a fixed mix, shuffled."""
    kinds = []
    for index in range(count):
        share = index / max(count, 1)
        if share < 0.15:
            kinds.append("fail")
        elif share < 0.25:
            kinds.append("stall")
        elif share < 0.45 and can_cancel:
            kinds.append("cancel")
        else:
            kinds.append("plain")
    rng.shuffle(kinds)
    planned = []
    for kind in kinds:
        images = rng.choice((1, 1, 2, 3, 4))
        prompt = ask(PROMPT, images)
        if kind == "fail":
            prompt += " " + FAIL
        elif kind == "stall" or (kind == "cancel" and rng.random() < 0.25):
            # Some cancelled jobs stall too, so that a cancel surely finds them queued or running.
            prompt += " " + STALL[rng.choice(("queued", "running"))]
        planned.append((kind, images, prompt))
    return planned


def expectations(job: Job, seen: Seen, cancelled: bool) -> list[str]:
    """What a job's own directives forbid it to show."""
    found = []
    if job.kind == "fail" and seen.success:
        found.append("a job asked to fail succeeded")
    if job.kind == "stall" and seen.terminal:
        found.append(f"a stalled job ended {seen.status}")
    if seen.canceled and not cancelled:
        found.append("a job nobody cancelled is cancelled")
    if seen.outputs > job.images or (seen.success and seen.outputs != job.images):
        found.append(f"{seen.status} with {seen.outputs} outputs of the {job.images} images it makes")
    return found


def run(
    base: str,
    surface: str,
    *,
    jobs: int = 500,
    threads: int = 16,
    polls: int = 2_000,
    seed: int = 0,
) -> Result:
    """Create `jobs` jobs on `surface` of the emulator at `base`, poll them from `threads` threads, check it all."""
    probe = PROBES[surface](base)
    rng = random.Random(f"{seed}:{surface}")
    planned = plan_jobs(jobs, rng, probe.can_cancel)
    seeds = [rng.getrandbits(64) for _ in planned]
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def client() -> httpx.Client:
        if not hasattr(local, "http"):
            local.http = httpx.Client(timeout=30, limits=httpx.Limits(max_keepalive_connections=1))
            with lock:
                clients.append(local.http)
        http: httpx.Client = local.http
        return http

    def create(index: int) -> Job:
        kind, images, prompt = planned[index]
        return Job(probe.create(client(), random.Random(seeds[index]), prompt, images), kind, images)

    try:
        with ThreadPoolExecutor(threads) as pool:
            made = list(pool.map(create, range(len(planned))))
        by_id = {job.id: job for job in made}
        claimed: set[str] = set()
        observations: list[list[Observation]] = [[] for _ in range(threads)]
        start = threading.Barrier(threads + 1)

        def poller(number: int) -> None:
            http = client()
            own = random.Random(f"{seed}:{surface}:{number}")
            mine = observations[number]
            start.wait()
            for _ in range(polls):
                job = own.choice(made)
                if job.kind == "cancel" and own.random() < CANCEL_CHANCE:
                    with lock:
                        first = job.id not in claimed
                        claimed.add(job.id)
                    if first:
                        sent = time.perf_counter()
                        seen = probe.cancel(http, job.id)
                        mine.append(Observation(job.id, number, sent, time.perf_counter(), seen, cancel=True))
                sent = time.perf_counter()
                try:
                    seen = probe.poll(http, job.id)
                except httpx.HTTPError as exc:
                    seen = broken(0, f"{type(exc).__name__}: {exc}")
                mine.append(Observation(job.id, number, sent, time.perf_counter(), seen))

        with ThreadPoolExecutor(threads) as pool:
            running = [pool.submit(poller, number) for number in range(threads)]
            start.wait()
            began = time.perf_counter()
            for each in running:
                each.result()
            seconds = time.perf_counter() - began
    finally:
        for http in clients:
            http.close()

    everything = [observation for mine in observations for observation in mine]
    polled = [observation for observation in everything if not observation.cancel]
    result = Result(
        surface,
        len(made),
        len(polled),
        len(everything) - len(polled),
        seconds,
        [observation.received - observation.sent for observation in polled],
        transitions=0,
    )
    result.problems, result.transitions = judge(everything, by_id)
    return result


def judge(everything: Sequence[Observation], jobs: Mapping[str, Job]) -> tuple[list[str], int]:
    """Every impossible observation (one line each) and the number of status changes seen by a single thread."""
    flagged: dict[int, list[str]] = {}
    transitions = 0
    by_job: dict[str, list[Observation]] = {}
    for observation in everything:
        by_job.setdefault(observation.job, []).append(observation)

    def flag(observation: Observation, reasons: list[str]) -> None:
        if reasons:
            flagged.setdefault(id(observation), []).extend(reasons)

    for job_id, seen_by_all in by_job.items():
        job = jobs[job_id]
        cancels = [observation for observation in seen_by_all if observation.cancel]
        cancelled = bool(cancels)
        verdict = cancels[0] if cancels else None
        last_by_thread: dict[int, Observation] = {}
        for observation in seen_by_all:  # each thread's list is in its own order
            seen = observation.seen
            flag(observation, [*seen.problems, *expectations(job, seen, cancelled)])
            previous = last_by_thread.get(observation.thread)
            if previous is not None:
                flag(
                    observation,
                    [f"after this thread saw {previous.seen.status}: {why}" for why in impossible(previous.seen, seen)],
                )
                transitions += (previous.seen.status, previous.seen.outputs) != (seen.status, seen.outputs)
            last_by_thread[observation.thread] = observation
            if verdict is not None and observation is not verdict and observation.sent > verdict.received:
                flag(observation, after_cancel(verdict.seen, seen))
        flag_causal(seen_by_all, flag)

    problems = []
    for observation in everything:
        reasons = flagged.get(id(observation))
        if reasons:
            kind = "cancel" if observation.cancel else "poll"
            problems.append(
                f"{kind} of {observation.job} ({jobs[observation.job].kind}) by thread {observation.thread}: {'; '.join(dict.fromkeys(reasons))}"
            )
    return problems, transitions


def after_cancel(verdict: Seen, seen: Seen) -> list[str]:
    """A poll sent after a cancel's reply arrived must agree with it."""
    if verdict.canceled and (not seen.canceled or seen.outputs):
        return [f"the cancel answered {verdict.status}, a later poll {seen.status} with {seen.outputs} outputs"]
    if not verdict.canceled and seen.canceled:
        return [f"the cancel came too late ({verdict.status}), yet a later poll shows {seen.status}"]
    return []


def flag_causal(seen_by_all: Sequence[Observation], flag: Callable[[Observation, list[str]], None]) -> None:
    """Across threads: an observation sent after another's reply arrived must not be behind it."""
    by_sent = sorted(seen_by_all, key=lambda observation: observation.sent)
    by_received = sorted(seen_by_all, key=lambda observation: observation.received)
    received = [observation.received for observation in by_received]
    furthest: Seen | None = None
    taken = 0
    for observation in by_sent:
        ready = bisect.bisect_left(received, observation.sent)
        for earlier in by_received[taken:ready]:
            if earlier.seen.rank >= 0:
                furthest = earlier.seen if furthest is None else furthest.merge(earlier.seen)
        taken = max(taken, ready)
        if furthest is not None and observation.seen.rank >= 0:
            flag(
                observation,
                [
                    f"after another thread saw {furthest.status}: {why}"
                    for why in impossible(furthest, observation.seen)
                ],
            )


# -- the command -------------------------------------------------------------------------------------------------


def table(results: Sequence[Result]) -> Iterator[str]:
    yield "| surface | jobs | polls | req/s | p50 ms | p99 ms | transitions seen | impossible |"
    yield "|---|---:|---:|---:|---:|---:|---:|---:|"
    for result in results:
        yield (
            f"| {result.surface} | {result.jobs:,} | {result.polls:,} | {result.per_second():,.0f} "
            f"| {result.percentile(0.5):.1f} | {result.percentile(0.99):.1f} | {result.transitions:,} "
            f"| {result.impossible} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=500, help="async jobs per surface (default 500)")
    parser.add_argument("--threads", type=int, default=16, help="polling threads (default 16)")
    parser.add_argument("--polls", type=int, default=2_000, help="polls per thread (default 2,000)")
    parser.add_argument("--surface", action="append", choices=SURFACES, help="only this surface (repeatable)")
    parser.add_argument("--timing", default="realistic", choices=("fast", "realistic"), help="default realistic")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    surfaces = tuple(args.surface or SURFACES)
    print(
        f"{args.jobs:,} async jobs per surface, {args.threads} threads x {args.polls:,} polls, "
        f"{args.timing} timing, seed {args.seed}",
        flush=True,
    )
    results = []
    with EmulatorServer(timing=args.timing, seed=args.seed) as server:
        for surface in surfaces:
            result = run(server.base, surface, jobs=args.jobs, threads=args.threads, polls=args.polls, seed=args.seed)
            results.append(result)
    for line in table(results):
        print(line)
    for result in results:
        for problem in result.problems[:10]:
            print(f"{result.surface}: {problem}", file=sys.stderr)
    return 1 if any(result.impossible for result in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
