"""Ark's domain: a generation request in, its images out (in one reply, or streamed as they are made).

Ark answers synchronously: the request is held until its job has finished. The service composes the parts:
`references` (what the emulator makes of reference images) and `replies` (the reply body and the stream events).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from contracts import load
from contracts.ark import rules
from emulator.core.directives import extract
from emulator.core.faults import Context
from emulator.core.jobs import Event, Job, Overloaded
from emulator.core.journal import Entry
from emulator.core.render import GenerationSpec
from emulator.core.runtime import Runtime

from .. import errors
from ..errors import ArkError
from . import references, replies
from .replies import SURFACE, Generation

__all__ = ["SURFACE", "ArkService", "Generation"]

CONTRACT = load("ark")
RULES = rules.RULES
OUTPUT = RULES["output"]
REQUEST_ID = RULES["requestId"]
SEED_SPACE = CONTRACT.schema("imageGeneration")["properties"]["seed"]["maximum"] + 1
HEX = "0123456789abcdef"


class ArkService:
    def __init__(self, runtime: Runtime, *, result_ttl: float | None = None) -> None:
        self.runtime = runtime
        self.result_ttl = float(result_ttl if result_ttl is not None else RULES["resultValiditySeconds"])

    def authenticate(self, token: str | None) -> str:
        """Any non-empty Bearer token, or one of `--api-key` when given."""
        if token is None or not self.runtime.keys.allows(token):
            raise ArkError("unauthorized")
        return token

    def new_request_id(self) -> str:
        millis = f"{int(self.runtime.clock.now() * 1000) % 10**13:013d}"
        return str(REQUEST_ID["prefix"]) + millis + self.runtime.ids.token(REQUEST_ID["hexLength"], HEX)

    def context(self, route: str, api_key: str | None, body: Any, entry: Entry | None = None) -> Context:
        """What fault rules and limits match on; directives come from the prompt as the client sent it."""
        fields = body if isinstance(body, dict) else {}
        return self.runtime.context(
            SURFACE, route, prompt=fields.get("prompt"), model=fields.get("model"), api_key=api_key, entry=entry
        )

    def check(self, body: Any) -> dict[str, Any]:
        """The body without its null fields, once it meets the contract; an ArkError for the first violation."""
        if not isinstance(body, dict):
            raise errors.not_an_object(CONTRACT.validator("imageGeneration").violations(body))
        given = rules.present(body)
        validator = CONTRACT.validator("imageGeneration")
        found = validator.violations(given) if not validator.is_valid(given) else rules.check(given)
        if found:
            error = errors.from_violation(found[0])
            error.violations = found
            raise error
        return given

    async def generate(self, body: Any, base_url: str, context: Context, entry: Entry) -> Generation:
        """Start the generation of a request whose key and admission are settled; an ArkError when it is refused.
        Reference images are read here, as Ark downloads them before it generates."""
        request_id = self.new_request_id()
        entry.ids.append(request_id)
        try:
            return await self._generate(self.check(body), base_url, context.with_job(request_id), entry, request_id)
        except ArkError as error:
            error.request_id = request_id
            raise

    async def _generate(
        self, body: Mapping[str, Any], base_url: str, context: Context, entry: Entry, request_id: str
    ) -> Generation:
        model = body["model"]
        if rules.is_endpoint(model):
            entry.notes.append(rules.RULES["notes"]["endpoint"].format(model=model, runs_as=rules.runs_as(model)))
        values = rules.references(body)
        found = await references.read(self.runtime, values, base_url)
        entry.warnings.extend(ref.warning for ref in found if ref.warning)
        first_visible = next((ref.size for ref in found if ref.size is not None), None)
        width, height = rules.output_size(body, first_visible)
        prompt = extract(body["prompt"])[0]
        count = rules.image_count(body, self.runtime.image_count, prompt)
        given_seed = int(body.get("seed", -1))
        seed_base = given_seed if given_seed >= 0 else self.runtime.ids.uint32()
        reported = rules.runs_as(model)
        specs = [
            GenerationSpec.create(
                prompt=prompt,
                provider=SURFACE,
                model=reported,
                job_id=request_id,
                index=index,
                seed=(seed_base + index) % SEED_SPACE,
                width=width,
                height=height,
                format=OUTPUT["format"],
                quality=OUTPUT["quality"],
                reference_count=len(values),
            )
            for index in range(count)
        ]
        generation = Generation(
            request_id=request_id,
            model=reported,
            created=int(self.runtime.clock.now()),
            response_format=body.get("response_format", rules.DEFAULTS["response_format"]),
            base_url=base_url,
            specs=specs,
            artifact_ids=[self.runtime.ids.uuid4() for _ in specs],
            group=rules.group(body),
        )
        try:
            generation.job = self.runtime.start_job(
                context, self.runtime.plan(width * height, count), data=generation, listener=self._on_event
            )
        except Overloaded as exc:
            raise errors.rate_limited(exc) from None
        return generation

    async def reply(self, generation: Generation) -> dict[str, Any]:
        """The reply once the job has ended: its images and, in a group, the error of the image that failed in its
        place; outside a group, an ArkError when no image was made."""
        job = generation.job
        assert job is not None
        await self.runtime.jobs.wait(job, lambda current: current.state.terminal)
        made = job.outputs_ready
        failure = replies.image_error(job)
        if failure is not None and made == 0 and not generation.group:
            raise failure.as_http_error(generation.request_id)
        data = [await replies.item(self.runtime, generation, index) for index in range(made)]
        if failure is not None:
            data.append({"error": failure.body})
        return replies.body(generation, data, made)

    async def events(self, generation: Generation) -> AsyncIterator[dict[str, Any]]:
        """The stream's events: each image as it is made, the failure of one, then the completion with the usage."""
        job = generation.job
        assert job is not None
        sent = 0
        while True:
            await self.runtime.jobs.wait(job, _progressed(sent))
            finished, ready = job.state.terminal, job.outputs_ready  # read together: the job moves on meanwhile
            for index in range(sent, ready):
                yield replies.succeeded(
                    generation, await replies.item(self.runtime, generation, index), index, self.now()
                )
            sent = ready
            if finished:
                break
        failure = replies.image_error(job)
        if failure is not None:
            yield replies.failed(generation, failure, sent, self.now())
        yield replies.completed(generation, sent, self.now())

    def now(self) -> int:
        return int(self.runtime.clock.now())

    def reset(self) -> None:
        return None

    def _on_event(self, job: Job, event: Event) -> None:
        """Each image's URL is downloadable as soon as the image is made, for the documented validity."""
        if event.kind != "output" or event.index is None:
            return
        generation: Generation = job.data
        if generation.response_format != "url":
            return
        lag = self.runtime.clock.now() - event.at
        index = event.index
        self.runtime.artifacts.add_generated(
            generation.artifact_ids[index], generation.specs[index], self.result_ttl - lag
        )


def _progressed(sent: int) -> Callable[[Job], bool]:
    """Whether a job has news for a stream that has sent `sent` images: finished, or a new image."""
    return lambda job: job.state.terminal or job.outputs_ready > sent
