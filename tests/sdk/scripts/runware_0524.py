"""Runs inside the runware==0.5.24 virtualenv (WebSocket only), unchanged but for its URL.

argv[1]: a JSON file {"ws": "ws://.../runware/v1", "cases": [{"name", "task", "upload"?: path, "poll"?: bool}]}
`task` holds IImageInference fields; `providerSettings` is turned into IBytedanceProviderSettings
(0.5.24 cannot take a plain dict there). With "upload" the file is stored with uploadImage and its
imageUUID used as reference. With "poll" the task is sent async and its results fetched with
getResponse. stdout: one JSON line {name: {"ok": [images]} | {"error": {...}}}.
"""

import asyncio
import dataclasses
import json
import os
import sys
from typing import Any

os.environ.setdefault("RUNWARE_IMAGE_INFERENCE_TIMEOUT", "60000")
os.environ.setdefault("RUNWARE_VIDEO_INITIAL_TIMEOUT", "5000")

from runware import IBytedanceProviderSettings, IImageInference, IInputs, Runware
from runware.utils import RunwareAPIError


def as_dict(image: object) -> dict:
    if dataclasses.is_dataclass(image) and not isinstance(image, type):
        fields = dataclasses.asdict(image)
    else:
        fields = dict(vars(image))
    return {key: value for key, value in fields.items() if value is not None}


async def run_case(runware: Runware, case: dict) -> list:
    fields = dict(case["task"])
    if "providerSettings" in fields:
        fields["providerSettings"] = IBytedanceProviderSettings(**fields["providerSettings"]["bytedance"])
    if "upload" in case:
        stored = await runware.uploadImage(case["upload"])
        fields["inputs"] = IInputs(referenceImages=[stored.imageUUID])
    elif "inputs" in fields:
        fields["inputs"] = IInputs(**fields["inputs"])
    if case.get("poll"):
        fields["deliveryMethod"] = "async"
        accepted = await runware.imageInference(requestImage=IImageInference(**fields))
        return await runware.getResponse(accepted.taskUUID, numberResults=fields.get("numberResults", 1))
    return await runware.imageInference(requestImage=IImageInference(**fields))


async def main() -> None:
    with open(sys.argv[1]) as handle:
        request = json.load(handle)
    runware = Runware(api_key="sdk-test-key", url=request["ws"])
    await runware.connect()
    outcomes: dict[str, dict[str, Any]] = {}
    for case in request["cases"]:
        try:
            outcomes[case["name"]] = {"ok": [as_dict(image) for image in await run_case(runware, case)]}
        except RunwareAPIError as error:
            outcomes[case["name"]] = {"error": {"code": error.code, "data": error.error_data}}
        except Exception as error:  # the SDK raises bare Exceptions for timeouts
            outcomes[case["name"]] = {"error": {"code": type(error).__name__, "message": str(error)}}
    await runware.disconnect()
    print(json.dumps(outcomes))


asyncio.run(main())
