"""JSON-lines runner for the official runware-sdk 1.8.0, run inside its own virtualenv.

    python runware_sdk.py rest|websocket

Speaks the protocol of conformance/adapters/jsonlines.py. Standalone: the SDK's environment has
nothing of this project installed.
"""

import asyncio
import json
import sys
from typing import Any

from runware import RunOptions, Runware, RunwareError

KINDS = {
    "validation": "invalid_request",
    "auth": "auth",
    "quota": "auth",
    "rateLimit": "rate_limited",
    "safety": "generation_failed",
    "provider": "generation_failed",
    "notFound": "generation_failed",
    "timeout": "timeout",
    "serverError": "server_error",
    "connection": "connection",
    "aborted": "canceled",
}
OUTPUTS = (("imageURL", "url"), ("imageDataURI", "url"), ("imageBase64Data", "base64"))


class Runner:
    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.clients: dict[tuple[str, str], Runware] = {}

    async def client(self, base_url: str, api_key: str) -> Runware:
        key = (base_url, api_key)
        if key not in self.clients:
            client = Runware(
                api_key=api_key,
                transport=self.transport,
                http_base_url=base_url,
                ws_base_url=base_url.replace("http", "ws", 1),
            )
            await client.__aenter__()
            self.clients[key] = client
        return self.clients[key]

    async def generate(self, message: dict[str, Any]) -> dict[str, Any]:
        client = await self.client(message["base_url"], message["credentials"]["api_key"])
        task = dict(message["body"])
        task.setdefault("taskType", "imageInference")
        try:
            items = await client.run(task, RunOptions(timeout=int(message["timeout"] * 1000)))
        except RunwareError as error:
            return {"failure": {"kind": KINDS.get(error.code, "crash"), "message": str(error), "code": error.code}}
        images = []
        for item in items:
            for field, kind in OUTPUTS:
                if item.get(field):
                    images.append({kind: item[field]})
                    break
        return {"images": images}

    async def close(self) -> None:
        for client in self.clients.values():
            await client.__aexit__(None, None, None)


async def main() -> None:
    runner = Runner(sys.argv[1])
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=512 * 2**20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    capabilities = ["websocket"] if sys.argv[1] == "websocket" else []
    print(
        json.dumps({"ready": True, "name": f"runware-sdk-1.8.0-{sys.argv[1]}", "capabilities": capabilities}),
        flush=True,
    )
    try:
        while line := await reader.readline():
            message = json.loads(line)
            try:
                reply = await runner.generate(message)
            except Exception as error:  # anything the SDK raises outside RunwareError is a crash to report
                reply = {
                    "failure": {
                        "kind": "crash",
                        "message": f"{type(error).__name__}: {error}",
                        "exception": type(error).__name__,
                    }
                }
            print(json.dumps({"id": message["id"], **reply}), flush=True)
    finally:
        await runner.close()


asyncio.run(main())
