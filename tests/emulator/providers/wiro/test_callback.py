import json

import pytest

from contracts.counts import ask
from contracts.wiro import rules
from emulator.core.clock import ManualClock
from emulator.core.jobs import Failure
from tests.support import contract_errors, settle

from .conftest import Wiro, error_of, until

HOOK = "https://hooks.example/wiro"
T0 = 1_700_000_000.0


async def attempts(wiro: Wiro, count: int) -> None:
    await until(lambda: len(wiro.emulator.receiver.requests) >= count)


def delivery(wiro: Wiro, uuid: str):
    [found] = wiro.runtime.webhooks.deliveries(job_id=uuid)
    return found


async def test_callback_posts_the_detail_reply_on_completion_and_retries_on_non_2xx(
    make_wiro, clock: ManualClock
) -> None:
    wiro = await make_wiro(clock=clock)
    wiro.emulator.receiver.statuses = [500, 502, 200]
    reply = await wiro.create(prompt=ask("a lighthouse at dusk", 2), callbackUrl=HOOK, maxImages=2)
    await attempts(wiro, 1)
    request = wiro.emulator.receiver.requests[0]
    assert request.method == "POST" and str(request.url) == HOOK
    assert request.headers["content-type"] == "application/json"
    assert not any(name.startswith("x-signature") for name in request.headers)
    body = json.loads(request.content)
    assert contract_errors("wiro", "taskDetailResult", body) == []
    [task] = body["tasklist"]
    assert (task["id"], task["status"], task["pexit"], len(task["outputs"])) == (
        reply["taskid"],
        "task_postprocess_end",
        "0",
        2,
    )
    assert task["callbackurl"] == HOOK

    clock.advance(0.99)
    await settle(50)
    assert len(wiro.emulator.receiver.requests) == 1
    clock.advance(0.01)
    await attempts(wiro, 2)
    clock.advance(2)
    await attempts(wiro, 3)
    sent = delivery(wiro, task["uuid"])
    await until(lambda: sent.state == "delivered")
    assert [(a.at - T0, a.status) for a in sent.attempts] == [(0.0, 500), (1.0, 502), (3.0, 200)]
    assert sent.event == "task_postprocess_end"
    assert [json.loads(r.content) for r in wiro.emulator.receiver.requests[1:]] == [body, body]


async def test_callback_gives_up_after_the_documented_attempts(make_wiro, clock: ManualClock) -> None:
    wiro = await make_wiro(clock=clock)
    wiro.emulator.receiver.statuses = [503] * 10
    reply = await wiro.create(callbackUrl=HOOK)
    await attempts(wiro, 1)
    uuid = wiro.stored(reply["taskid"]).uuid
    sent = delivery(wiro, uuid)
    for delay, count in ((1, 2), (2, 3), (4, 4)):
        clock.advance(delay)
        await attempts(wiro, count)
    await until(lambda: sent.state == "failed")
    clock.advance(3600)
    await settle(50)
    policy = rules.RULES["callback"]
    assert len(sent.attempts) == policy["maxAttempts"] == len(wiro.emulator.receiver.requests)
    assert [a.at - T0 for a in sent.attempts] == [0.0, 1.0, 3.0, 7.0]


async def test_cancel_and_failure_are_terminal_callbacks_too(make_wiro, clock: ManualClock) -> None:
    wiro = await make_wiro(clock=clock, timing="realistic")
    canceled = await wiro.create(callbackUrl=HOOK)
    await wiro.cancel(taskid=canceled["taskid"])
    await attempts(wiro, 1)
    body = json.loads(wiro.emulator.receiver.requests[0].content)
    assert body["tasklist"][0]["status"] == "task_cancel"

    failed = await wiro.create(callbackUrl=HOOK + "/2")
    clock.advance(1)
    uuid = (await wiro.task(failed["taskid"]))["uuid"]
    wiro.runtime.jobs.get(uuid).fail(Failure("exit", "segfault"), clock.now())
    await attempts(wiro, 2)
    task = json.loads(wiro.emulator.receiver.requests[1].content)["tasklist"][0]
    assert (task["status"], task["pexit"], task["debugerror"]) == ("task_postprocess_end", "1", "segfault")
    assert delivery(wiro, uuid).event == "task_postprocess_end"


async def test_callback_body_can_be_the_bare_task(make_wiro) -> None:
    wiro = await make_wiro(wiro_callback_body="task")
    reply = await wiro.create(callbackUrl=HOOK)
    await attempts(wiro, 1)
    task = json.loads(wiro.emulator.receiver.requests[0].content)
    assert contract_errors("wiro", "task", task) == [] and task["id"] == reply["taskid"]


async def test_no_callback_without_a_url(wiro: Wiro) -> None:
    reply = await wiro.create()
    await wiro.finished(reply["taskid"])
    await wiro.runtime.settle()
    assert wiro.runtime.webhooks.deliveries() == [] and wiro.emulator.receiver.requests == []


def run_entries(wiro: Wiro) -> list:
    return wiro.runtime.journal.entries(surface="wiro", route="POST /v1/Run/{owner}/{model}")


async def test_a_plain_http_loopback_callback_is_served_with_warnings_when_lenient(make_wiro) -> None:
    wiro = await make_wiro()
    await wiro.create(callbackUrl="http://127.0.0.1:9/hook")
    await attempts(wiro, 1)
    assert str(wiro.emulator.receiver.requests[0].url) == "http://127.0.0.1:9/hook"
    [entry] = run_entries(wiro)
    assert entry.warnings == [
        "callbackUrl: callback URL http://127.0.0.1:9/hook is not HTTPS: production refuses it; served here because --strict is off",
        (
            "callbackUrl: callback URL http://127.0.0.1:9/hook targets the internal host 127.0.0.1: production refuses"
            " it; served here because --strict is off"
        ),
    ]


@pytest.mark.parametrize(
    "url", ["http://hooks.example.com/wiro", "https://127.0.0.1/hook", "https://0x7f000001/hook", "https://[::1]/h"]
)
async def test_strict_refuses_what_production_refuses_in_wiros_shape(make_wiro, url: str) -> None:
    wiro = await make_wiro(strict=True)
    response = await wiro.run({"prompt": "x", "callbackUrl": url})
    assert error_of(response) == (200, 0, "Request parameters are invalid.")
    assert contract_errors("wiro", "error", response.json()) == []
    [entry] = run_entries(wiro)
    assert entry.warnings == [] and entry.violations and all(v["path"] == "/callbackUrl" for v in entry.violations)
    assert len(wiro.service.tasks) == 0


async def test_the_exempt_receiver_is_served_silently_even_when_strict(make_wiro) -> None:
    wiro = await make_wiro(strict=True, callback_exempt=("http://127.0.0.1:9/hooks",))
    await wiro.create(callbackUrl="http://127.0.0.1:9/hooks/wiro")
    await attempts(wiro, 1)
    [entry] = run_entries(wiro)
    assert entry.warnings == [] and entry.violations == []


async def test_the_policy_is_read_at_request_time(wiro: Wiro) -> None:
    changed = await wiro.client.put("/_emulator/policy", json={"strict": True})
    assert changed.status_code == 200, changed.text
    assert (
        error_of(await wiro.run({"prompt": "x", "callbackUrl": "http://hooks.example.com/w"}))[2]
        == "Request parameters are invalid."
    )
    await wiro.client.put("/_emulator/policy", json={"strict": False})
    assert (await wiro.run({"prompt": "x", "callbackUrl": "http://hooks.example.com/w"})).json()["result"] is True


async def test_a_public_https_callback_leaves_no_warning(make_wiro) -> None:
    wiro = await make_wiro(strict=True)
    await wiro.create(callbackUrl="https://hooks.example.com/wiro")
    [entry] = run_entries(wiro)
    assert entry.warnings == [] and entry.violations == []
