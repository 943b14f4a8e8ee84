from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from contracts import openapi
from contracts.counts import Mode
from emulator import __version__
from emulator.core.faults import FaultError
from emulator.instance import Emulator

router = APIRouter(tags=["control"])


def _emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    emulator = _emulator(request)
    runtime, settings = emulator.runtime, emulator.settings
    base = runtime.base_url(f"{request.url.scheme}://{request.url.netloc}")
    return {
        "status": "ok",
        "version": __version__,
        "timing": settings.timing,
        "seed": runtime.ids.seed,
        "surfaces": {
            surface.name: dict(surface.endpoints(base + settings.prefix(surface.name))) for surface in emulator.surfaces
        },
        "jobs": len(runtime.jobs),
        "artifacts": len(runtime.artifacts),
        "faults": len(runtime.faults.rules()),
        # What the bounded stores hold now (each has a documented cap), to tell them from a leak.
        "stores": {
            "render_cache_bytes": runtime.artifacts.cache.size_bytes,
            "upload_bytes": runtime.artifacts.blob_bytes,
            "journal_entries": len(runtime.journal),
            "journal_body_bytes": runtime.journal.body_bytes,
            "journal_bodies_dropped": runtime.journal.bodies_dropped,
        },
        # `serve --state DIR`: where accepted work is kept across restarts; None when it is in memory only.
        "state": runtime.state.describe() if runtime.state is not None else None,
    }


@router.get("/openapi/{surface}.json")
async def openapi_document(request: Request, surface: str) -> dict[str, Any]:
    """The surface's OpenAPI 3.1 document (generated from its contract), its server this emulator's surface URL."""
    emulator = _emulator(request)
    if surface not in {s.name for s in emulator.surfaces} or surface not in openapi.providers():
        raise HTTPException(404, f"no surface {surface}")
    base = emulator.runtime.base_url(f"{request.url.scheme}://{request.url.netloc}")
    return openapi.document(surface, base + emulator.settings.prefix(surface))


@router.get("/journal")
async def journal(
    request: Request,
    surface: str | None = None,
    route: str | None = None,
    status: int | None = None,
    valid: bool | None = None,
    after: int = Query(default=0, ge=0, description="only entries with a greater seq (what a poller has not seen)"),
    limit: int = Query(default=200, ge=1, le=10_000),
) -> dict[str, Any]:
    """Requests the emulator answered, newest last; `valid=false` lists those that broke the contract."""
    entries = _emulator(request).runtime.journal.entries(surface=surface, route=route, status=status, valid=valid)
    return {"entries": [entry.as_dict() for entry in entries[-limit:] if entry.seq > after]}


@router.get("/journal/{seq}")
async def journal_entry(request: Request, seq: int) -> dict[str, Any]:
    """One entry with its request and reply: headers (secrets masked) and the head of each body."""
    entry = _emulator(request).runtime.journal.get(seq)
    if entry is None:
        raise HTTPException(404, f"no journal entry {seq}")
    return entry.detail()


@router.get("/policy")
async def policy(request: Request) -> dict[str, Any]:
    """Production rules in force: strict callback targets, their exemptions, and how image counts are decided."""
    return _emulator(request).policy()


class PolicyChange(BaseModel):
    """Production rules to switch; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    strict: StrictBool | None = None
    callback_exempt: list[StrictStr] | None = Field(default=None, description="URL prefixes served without the rules")
    image_count: Mode | None = None
    api_keys: list[StrictStr] | None = Field(default=None, description="the only keys accepted; [] accepts any key")


@router.put("/policy")
async def set_policy(request: Request, change: PolicyChange) -> dict[str, Any]:
    """Change `strict`, `callback_exempt`, `image_count` (prompt or max) or `api_keys` while the emulator runs."""
    return _emulator(request).set_policy(**change.model_dump(exclude_none=True))


@router.post("/reset")
async def reset(request: Request) -> dict[str, str]:
    """Forget jobs, files, journal, deliveries and fault rules (limits stay configured)."""
    _emulator(request).reset()
    return {"status": "reset"}


@router.get("/jobs")
async def jobs(
    request: Request,
    surface: str | None = None,
    state: str | None = None,
    limit: int = Query(default=200, ge=1, le=10_000),
) -> dict[str, Any]:
    return {"jobs": _emulator(request).jobs(surface=surface, state=state)[-limit:]}


@router.get("/jobs/{job_id}")
async def job(request: Request, job_id: str) -> dict[str, Any]:
    """A job's state, timeline and outbound deliveries (every attempt with its response)."""
    found = _emulator(request).job(job_id)
    if found is None:
        raise HTTPException(404, f"no job {job_id}")
    return found


@router.post("/jobs/{job_id}/advance")
async def advance(request: Request, job_id: str) -> dict[str, Any]:
    """Carry out the job's next planned step now, whatever the clock says."""
    found = _emulator(request).advance(job_id)
    if found is None:
        raise HTTPException(404, f"no job {job_id}")
    return found


@router.post("/jobs/{job_id}/cancel")
async def cancel(request: Request, job_id: str) -> dict[str, Any]:
    """Cancel the job now (a finished job is left as it is)."""
    found = _emulator(request).cancel(job_id)
    if found is None:
        raise HTTPException(404, f"no job {job_id}")
    return found


class FailureChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    failure: StrictStr = Field(default="provider_error", min_length=1, max_length=100)
    message: StrictStr = Field(default="", max_length=500)


@router.post("/jobs/{job_id}/fail")
async def fail(request: Request, job_id: str, change: FailureChange | None = None) -> dict[str, Any]:
    """Fail the job now with a failure kind (`content_policy`, `timeout`, `provider_error` or any code), as the
    `fail` fault does; a finished job is left as it is."""
    change = change or FailureChange()
    found = _emulator(request).fail(job_id, change.failure, change.message)
    if found is None:
        raise HTTPException(404, f"no job {job_id}")
    return found


@router.get("/faults")
async def faults(request: Request) -> dict[str, Any]:
    return {"faults": [rule.as_dict() for rule in _emulator(request).faults()]}


@router.post("/faults", status_code=201)
async def add_fault(request: Request, rule: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """Add a fault rule (see docs/control-api.md for the fields)."""
    try:
        return _emulator(request).add_fault(rule).as_dict()
    except FaultError as exc:
        raise HTTPException(422, str(exc)) from None


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, int]:
    emulator = _emulator(request)
    count = len(emulator.faults())
    emulator.runtime.faults.reset()
    return {"deleted": count}


@router.delete("/faults/{rule_id}", status_code=204)
async def delete_fault(request: Request, rule_id: str) -> Response:
    if not _emulator(request).remove_fault(rule_id):
        raise HTTPException(404, f"no fault rule {rule_id}")
    return Response(status_code=204)


@router.get("/limits")
async def limits(request: Request) -> dict[str, Any]:
    return {surface: limit.as_dict() for surface, limit in _emulator(request).runtime.limits.limits.items()}


# Far beyond any test's needs, and small enough that every count and Retry-After stays representable.
MAX_LIMIT = 1_000_000


class LimitChange(BaseModel):
    """Per-key limits of one surface; null (or left out) means unlimited."""

    model_config = ConfigDict(extra="forbid")

    requests_per_minute: StrictInt | None = Field(default=None, ge=1, le=MAX_LIMIT)
    concurrency: StrictInt | None = Field(default=None, ge=1, le=MAX_LIMIT)


@router.put("/limits/{surface}")
async def set_limit(request: Request, surface: str, limit: LimitChange) -> dict[str, Any]:
    """Per-key limits of one surface: requests_per_minute and concurrency (null = unlimited); a field out of its
    bounds, of another type or unknown is a 422 naming it."""
    emulator = _emulator(request)
    if surface not in {s.name for s in emulator.surfaces}:
        raise HTTPException(404, f"no surface {surface}")
    return emulator.set_limit(surface, **limit.model_dump()).as_dict()


@router.get("/replay")
async def replay(request: Request) -> dict[str, Any]:
    """With `serve --replay CASSETTE`: the cassette, how many requests it answered, and every request it could not
    match (the emulator answered those); a 404 when no cassette is being replayed."""
    replayer = _emulator(request).replay
    if replayer is None:
        raise HTTPException(404, "no cassette is being replayed (serve --replay CASSETTE)")
    report: dict[str, Any] = replayer.report()
    return report
