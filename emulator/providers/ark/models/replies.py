"""What Ark answers: the reply body `{model, created, data, usage}`, its items, and the stream's events."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from contracts.ark import rules
from emulator.core.artifacts import ArtifactStore
from emulator.core.jobs import Failure, Job, State
from emulator.core.render import GenerationSpec
from emulator.core.runtime import Runtime

from ..errors import ArkError

SURFACE = "ark"
IMAGE_ERRORS = rules.RULES["imageErrors"]
EVENTS = rules.RULES["stream"]["events"]


@dataclass
class Generation:
    """What the emulator remembers of an accepted generation request while it is answered."""

    request_id: str
    model: str
    created: int
    response_format: str
    base_url: str
    specs: list[GenerationSpec]
    artifact_ids: list[str]
    # A group (sequential_image_generation: auto) reports a failed image inside data; a single image, as an error.
    group: bool = False
    job: Job | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ImageError:
    """The failure of one image: its `error` object in data or in a partial_failed event, and the HTTP situation
    that answers the whole request when no image was made."""

    situation: str
    body: dict[str, str]

    def as_http_error(self, request_id: str) -> ArkError:
        error = ArkError(self.situation)
        error.request_id = request_id
        error.code_override = self.body["code"]
        error.message_override = f"{self.body['message']} Request ID: {request_id}"
        return error


def image_error(job: Job) -> ImageError | None:
    """The error of the image a failed (or cancelled) job stopped at; None when the job succeeded. A failure kind
    Ark has no code for (one a fault rule or directive names) is its own code."""
    if job.state is State.SUCCEEDED:
        return None
    failure = job.failure if job.state is State.FAILED and job.failure is not None else Failure("provider_error", "")
    known = IMAGE_ERRORS.get(failure.code)
    if isinstance(known, dict) and "code" in known:
        return ImageError(known["situation"], {"code": known["code"], "message": failure.message or known["message"]})
    other = IMAGE_ERRORS["other"]
    return ImageError(other["situation"], {"code": failure.code, "message": failure.message or other["message"]})


async def item(runtime: Runtime, generation: Generation, index: int) -> dict[str, Any]:
    """One image of data: its URL (downloadable once made) or its bytes in base64, and its size."""
    spec = generation.specs[index]
    size = f"{spec.width}x{spec.height}"
    if generation.response_format == "b64_json":
        return {"b64_json": base64.b64encode(await runtime.render(spec)).decode("ascii"), "size": size}
    return {"url": ArtifactStore.url(generation.base_url, generation.artifact_ids[index], spec.extension), "size": size}


def usage(generation: Generation, made: int) -> dict[str, int]:
    spent = sum(rules.tokens(spec.width, spec.height) for spec in generation.specs[:made])
    return {"generated_images": made, "output_tokens": spent, "total_tokens": spent}


def body(generation: Generation, data: list[dict[str, Any]], made: int) -> dict[str, Any]:
    return {"model": generation.model, "created": generation.created, "data": data, "usage": usage(generation, made)}


def succeeded(generation: Generation, image: dict[str, Any], index: int, now: int) -> dict[str, Any]:
    return {"type": EVENTS["succeeded"], "model": generation.model, "created": now, "image_index": index, **image}


def failed(generation: Generation, failure: ImageError, index: int, now: int) -> dict[str, Any]:
    return {
        "type": EVENTS["failed"],
        "model": generation.model,
        "created": now,
        "image_index": index,
        "error": failure.body,
    }


def completed(generation: Generation, made: int, now: int) -> dict[str, Any]:
    return {"type": EVENTS["completed"], "model": generation.model, "created": now, "usage": usage(generation, made)}
