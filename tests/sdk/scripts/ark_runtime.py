"""Runs inside the volcengine-ark-runtime (or byteplus-python-sdk-v2) virtualenv: Ark's own Python client,
unchanged but for its base_url.

argv[1]: a JSON file {"base": "http://.../ark/api/v3", "key": "...", "module": "volcenginesdkarkruntime" |
        "byteplussdkarkruntime", "cases": [{"name", "args", "stream"?: bool, "key"?: str}]}
Each case calls client.images.generate(**args) (`stream`: with stream=True, collecting the events).
stdout: one JSON line {name: {"ok": reply} | {"events": [...]} | {"error": {...}}}.
"""

import importlib
import json
import sys
from typing import Any


def describe(error: Exception) -> dict:
    return {
        "class": type(error).__name__,
        "status": getattr(error, "status_code", None),
        "code": getattr(error, "code", None),
        "param": getattr(error, "param", None),
        "type": getattr(error, "type", None),
        "message": getattr(error, "message", str(error)),
    }


def main() -> None:
    with open(sys.argv[1]) as handle:
        request = json.load(handle)
    runtime = importlib.import_module(request["module"])
    errors = (runtime._exceptions.ArkAPIError,) if hasattr(runtime, "_exceptions") else (Exception,)
    outcomes: dict[str, Any] = {}
    options = importlib.import_module(request["module"] + ".types.images").SequentialImageGenerationOptions
    for case in request["cases"]:
        args = dict(case["args"])
        if isinstance(args.get("sequential_image_generation_options"), dict):
            # The client takes its own model for the options (it calls model_dump on them).
            args["sequential_image_generation_options"] = options(**args["sequential_image_generation_options"])
        client = runtime.Ark(base_url=request["base"], api_key=case.get("key", request["key"]), max_retries=0)
        try:
            if case.get("stream"):
                events = [event.model_dump(exclude_none=True) for event in client.images.generate(stream=True, **args)]
                outcomes[case["name"]] = {"events": events}
            else:
                reply = client.images.generate(**args)
                outcomes[case["name"]] = {"ok": reply.model_dump(exclude_none=True)}
        except errors as error:
            outcomes[case["name"]] = {"error": describe(error)}
    print(json.dumps(outcomes))


if __name__ == "__main__":
    main()
