"""Runs inside the runware-sdk==1.8.0 virtualenv: the official client over REST, unchanged but for its URL.

stdin: {"base": "http://127.0.0.1:PORT/runware/v1", "cases": [{"name", "task", "timeout_ms"}]}
stdout: one JSON line {"name": {"ok": [...items...]} | {"error": {...}}}
"""

import asyncio
import json
import sys

from runware import RunOptions, Runware, RunwareError


async def main() -> None:
    request = json.load(sys.stdin)
    outcomes = {}
    async with Runware(
        api_key="sdk-test-key",
        transport="rest",
        http_base_url=request["base"],
        ws_base_url=request["base"].replace("http", "ws", 1),
    ) as client:
        for case in request["cases"]:
            try:
                items = await client.run(case["task"], RunOptions(timeout=case.get("timeout_ms", 60_000)))
                outcomes[case["name"]] = {"ok": items}
            except RunwareError as error:
                outcomes[case["name"]] = {
                    "error": {
                        "code": error.code,
                        "message": str(error),
                        "parameter": error.parameter,
                        "task_type": error.task_type,
                        "task_uuid": error.task_uuid,
                        "status_code": error.status_code,
                        "documentation": error.documentation,
                    }
                }
    print(json.dumps(outcomes))


asyncio.run(main())
