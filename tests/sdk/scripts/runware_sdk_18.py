"""Runs inside the runware-sdk==1.8.0 virtualenv: the official client, unchanged but for its URLs.

argv[1]: a JSON file {"rest": "http://.../runware/v1", "ws": "ws://.../runware/v1", "transport": "rest"|"websocket",
        "unlimited_frames"?: bool, "cases": [{"name", "task", "upload"?: data URI, "timeout_ms"?}]}
A case with "upload" first stores that image with image_upload and puts its imageUUID in the
task's inputs.referenceImages. stdout: one JSON line {name: {"ok": items} | {"error": {...}}}.
"""

import asyncio
import json
import sys

import websockets
from runware import RunOptions, RuntimeDependencies, Runware, RunwareError


def describe(error: RunwareError) -> dict:
    return {
        "code": error.code,
        "message": str(error),
        "parameter": error.parameter,
        "task_type": error.task_type,
        "task_uuid": error.task_uuid,
        "status_code": error.status_code,
    }


async def run_case(client: Runware, case: dict) -> dict:
    options = RunOptions(timeout=case.get("timeout_ms", 60_000))
    task = dict(case["task"])
    if "upload" in case:
        [stored] = await client.image_upload({"image": case["upload"]}, options)
        task.setdefault("inputs", {})["referenceImages"] = [stored["imageUUID"]]
    return {"ok": await client.run(task, options)}


async def main() -> None:
    with open(sys.argv[1]) as handle:
        request = json.load(handle)
    outcomes = {}
    extra = {}
    if request.get("unlimited_frames"):
        # The documented workaround for the SDK's 1 MiB default frame limit.
        extra["dependencies"] = RuntimeDependencies(ws_connect=lambda url: websockets.connect(url, max_size=None))
    async with Runware(
        api_key="sdk-test-key",
        transport=request["transport"],
        http_base_url=request["rest"],
        ws_base_url=request["ws"],
        **extra,
    ) as client:
        for case in request["cases"]:
            try:
                outcomes[case["name"]] = await run_case(client, case)
            except RunwareError as error:
                outcomes[case["name"]] = {"error": describe(error)}
    print(json.dumps(outcomes))


asyncio.run(main())
