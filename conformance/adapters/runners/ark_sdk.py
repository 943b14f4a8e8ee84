"""JSON-lines runner for Ark's official Python clients, run inside their own virtualenv.

    python ark_sdk.py openai|volcengine

`openai`: the OpenAI client pointed at Ark (`AsyncOpenAI(base_url=...).images.generate(..., extra_body=...)`), as
Ark's docs show; `volcengine`: Ark's own runtime client (`volcenginesdkarkruntime.AsyncArk`). Both as shipped:
their own retries and the request's timeout. Speaks the protocol of conformance/adapters/jsonlines.py. Standalone:
the clients' environment has nothing of this project installed.
"""

import asyncio
import json
import sys
from typing import Any

# Codes of an image the model made but would not hand out: the generation failed, not the request.
GENERATION_CODES = ("OutputImageSensitiveContentDetected", "OutputImageRiskDetection")
OPENAI_FIELDS = ("model", "prompt", "size", "response_format")


def kind_of(error: Exception) -> str:
    """The harness's failure kind of what a client raised, by its HTTP status or its class."""
    status = getattr(error, "status_code", None)
    name = type(error).__name__
    if "Timeout" in name:
        return "timeout"
    if status is None:
        return "connection" if "Connection" in name else "crash"
    if getattr(error, "code", None) in GENERATION_CODES:
        return "generation_failed"
    if status in (401, 403):
        return "auth"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    return "invalid_request"


class Runner:
    def __init__(self, flavour: str) -> None:
        self.flavour = flavour
        if flavour == "openai":
            import openai

            self.errors: tuple[type[Exception], ...] = (openai.APIError,)
        else:
            import volcenginesdkarkruntime

            self.errors = (volcenginesdkarkruntime._exceptions.ArkAPIError,)

    async def call(self, message: dict[str, Any]) -> Any:
        body = dict(message["body"])
        options = {
            "base_url": message["base_url"],
            "api_key": message["credentials"]["api_key"],
            "timeout": message["timeout"],
        }
        if self.flavour == "openai":
            from openai import AsyncOpenAI

            async with AsyncOpenAI(**options) as client:
                named = {field: body.pop(field) for field in OPENAI_FIELDS if field in body}
                return await client.images.generate(**named, extra_body=body)
        from volcenginesdkarkruntime import AsyncArk
        from volcenginesdkarkruntime.types import images

        # The client takes its own models for the option objects (it calls model_dump on them).
        for field, model in (
            ("sequential_image_generation_options", images.SequentialImageGenerationOptions),
            ("optimize_prompt_options", images.OptimizePromptOptions),
        ):
            if isinstance(body.get(field), dict):
                body[field] = model(**body[field])
        client = AsyncArk(**options)
        try:
            return await client.images.generate(**body)
        finally:
            await client.close()

    async def generate(self, message: dict[str, Any]) -> dict[str, Any]:
        try:
            reply = await self.call(message)
        except self.errors as error:
            code = getattr(error, "code", None)
            return {"failure": {"kind": kind_of(error), "message": str(error), "code": code}}
        images, failures = [], []
        for item in reply.data:
            fields = item.model_dump()
            if fields.get("b64_json"):
                images.append({"base64": fields["b64_json"]})
            elif fields.get("url"):
                images.append({"url": fields["url"]})
            elif fields.get("error"):
                failures.append(fields["error"])
        if not images and failures:
            first = failures[0] if isinstance(failures[0], dict) else {}
            return {
                "failure": {
                    "kind": "generation_failed",
                    "message": str(first.get("message")),
                    "code": first.get("code"),
                }
            }
        return {"images": images}


async def main() -> None:
    runner = Runner(sys.argv[1])
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=512 * 2**20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    name = {"openai": "openai-3.51.0", "volcengine": "volcengine-ark-runtime-5.0.54"}[sys.argv[1]]
    print(json.dumps({"ready": True, "name": name, "capabilities": []}), flush=True)
    while line := await reader.readline():
        message = json.loads(line)
        try:
            reply = await runner.generate(message)
        except Exception as error:  # anything else the client raises is a crash to report
            reply = {
                "failure": {
                    "kind": "crash",
                    "message": f"{type(error).__name__}: {error}",
                    "exception": type(error).__name__,
                }
            }
        print(json.dumps({"id": message["id"], **reply}), flush=True)


asyncio.run(main())
