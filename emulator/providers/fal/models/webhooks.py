"""`?fal_webhook=URL`: fal POSTs the request's outcome there once it is done (OK with the output, ERROR with the
error body and `error`), retried as contracts/fal rules.json `webhook` says."""

from __future__ import annotations

from typing import Any

from contracts.fal import rules
from emulator.core.http import dumps
from emulator.core.jobs import Event, Job, State
from emulator.core.runtime import Runtime
from emulator.core.webhooks import RetryPolicy

from .. import errors
from .requests import SURFACE, FalRequest, ending, output

POLICY = RetryPolicy.from_spec(rules.RULES["webhook"])


def body(request: FalRequest, job: Job) -> dict[str, Any]:
    if job.state is State.SUCCEEDED:
        return {
            "request_id": request.id,
            "gateway_request_id": request.id,
            "status": "OK",
            "payload": output(request, job),
            "error": None,
        }
    kind, message = ending(job)
    error = errors.job_error(kind, message)
    return {
        "request_id": request.id,
        "gateway_request_id": request.id,
        "status": "ERROR",
        "payload": error.body,
        "error": f"Invalid status code: {error.status}",
    }


def send(runtime: Runtime, request: FalRequest, job: Job, event: Event) -> None:
    """Deliver the webhook of a finished request, if it asked for one. A cancelled request is not delivered: fal
    documents webhooks for requests that are done processing, and a cancelled one never is."""
    if not request.webhook_url or event.state is State.CANCELED:
        return
    runtime.webhooks.send(
        surface=SURFACE,
        url=request.webhook_url,
        body=dumps(body(request, job)),
        policy=POLICY,
        event=f"request.{'ok' if event.state is State.SUCCEEDED else 'error'}",
        job_id=request.id,
        headers={"Content-Type": "application/json", "X-Fal-Webhook-Request-Id": request.id},
        context=request.context,
    )
