"""The concurrency benchmark in short (`bench/concurrency.py`), and the judge it relies on.

Per surface: 50 async jobs, 4 threads x 150 polls against a real server whose jobs take about a second, so that
states move while they are polled; any impossible observation fails.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench import concurrency
from bench.concurrency import Job, Observation, Seen, judge
from conformance.server import EmulatorServer
from emulator.core.timing import TimingProfile

# Jobs of 0.3 s to 1.5 s: they move while 600 polls take their second or two.
BRISK = TimingProfile("brisk", 0.1, 0.2, 0.02, 0.5)


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(timing="realistic") as server:
        server.runtime.timing = BRISK
        yield server


@pytest.mark.parametrize("surface", concurrency.SURFACES)
def test_no_poll_sees_an_impossible_state(server: EmulatorServer, surface: str) -> None:
    result = concurrency.run(server.base, surface, jobs=50, threads=4, polls=150, seed=7)
    assert result.problems == []
    assert (result.jobs, result.polls) == (50, 600)
    assert result.transitions > 0  # states moved while they were polled
    if surface in ("wiro", "replicate"):
        assert result.cancels > 0


# -- the judge ---------------------------------------------------------------------------------------------------

QUEUED = Seen("starting", 0, False)
RUNNING = Seen("processing", 1, False, log="Generating\n")
DONE = Seen("succeeded", 2, True, 2, log="Generating\nGenerated\n", success=True)
CANCELED = Seen("canceled", 2, True, log="Generating\n", canceled=True)
PLAIN = Job("p", "plain", 2)
CANCEL = Job("p", "cancel", 2)


def seen_by(*observations: tuple[int, float, float, Seen]) -> list[Observation]:
    """(thread, sent, received, seen) of one job, each thread's in its own order."""
    return [Observation("p", thread, sent, received, seen) for thread, sent, received, seen in observations]


def test_a_thread_may_miss_states_but_never_go_back() -> None:
    assert judge(seen_by((0, 0, 1, QUEUED), (0, 2, 3, DONE)), {"p": PLAIN}) == ([], 1)
    problems, _ = judge(seen_by((0, 0, 1, RUNNING), (0, 2, 3, QUEUED)), {"p": PLAIN})
    assert len(problems) == 1 and "went back from processing to starting" in problems[0]


def test_terminal_states_outputs_and_logs_never_change_back() -> None:
    shorter = Seen("succeeded", 2, True, 1, log=DONE.log, success=True)
    rewritten = Seen("succeeded", 2, True, 2, log="Generated\n", success=True)
    for later, why in [
        (CANCELED, "terminal succeeded became canceled"),
        (shorter, "outputs shrank from 2 to 1"),
        (rewritten, "log rewritten"),
    ]:
        problems, _ = judge(seen_by((0, 0, 1, DONE), (0, 2, 3, later)), {"p": PLAIN})
        assert any(why in problem for problem in problems), (why, problems)


def test_across_threads_only_a_reply_received_before_the_request_was_sent_binds_it() -> None:
    overlapping = seen_by((0, 0, 5, DONE), (1, 1, 2, RUNNING))
    assert judge(overlapping, {"p": PLAIN})[0] == []
    after = seen_by((0, 0, 1, DONE), (1, 2, 3, RUNNING))
    problems, _ = judge(after, {"p": PLAIN})
    assert len(problems) == 1 and "after another thread saw succeeded" in problems[0]


def test_a_job_finished_without_all_its_images_is_impossible() -> None:
    short = Seen("succeeded", 2, True, 1, success=True)
    problems, _ = judge(seen_by((0, 0, 1, short)), {"p": PLAIN})
    assert problems and "succeeded with 1 outputs of the 2 images it makes" in problems[0]


def test_polls_after_a_cancel_agree_with_its_reply() -> None:
    cancel = Observation("p", 0, 1, 2, CANCELED, cancel=True)
    agreeing = [cancel, *seen_by((1, 3, 4, CANCELED))]
    assert judge(agreeing, {"p": CANCEL})[0] == []
    too_late = Observation("p", 0, 1, 2, DONE, cancel=True)
    flipped = [too_late, *seen_by((1, 3, 4, CANCELED))]
    problems, _ = judge(flipped, {"p": CANCEL})
    assert any("the cancel came too late (succeeded), yet a later poll shows canceled" in p for p in problems)
    nobody = seen_by((0, 0, 1, CANCELED))
    assert "a job nobody cancelled is cancelled" in judge(nobody, {"p": PLAIN})[0][0]
