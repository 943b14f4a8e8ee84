"""JSON-lines runner for the official runware 0.5.24 (WebSocket only), run inside its own virtualenv.

Speaks the protocol of conformance/adapters/jsonlines.py. The SDK reads its timeouts from the
environment once, at import, into module globals; each call sets the inference timeout to the
harness's, as a user would through RUNWARE_IMAGE_INFERENCE_TIMEOUT.
"""

import asyncio
import dataclasses
import json
import sys
from typing import Any

import runware.base
from runware import IAsyncTaskResponse, IBytedanceProviderSettings, IImageInference, IInputs, Runware
from runware.utils import RunwareAPIError

FIELDS = {field.name for field in dataclasses.fields(IImageInference)}
OUTPUTS = (("imageURL", "url"), ("imageDataURI", "url"), ("imageBase64Data", "base64"))
VALIDATION = ("invalid", "missing", "unsupported", "conflict")


def kind(code: str) -> str:
    if code in ("invalidApiKey", "missingApiKey"):
        return "auth"
    if code.startswith(VALIDATION):
        return "invalid_request"
    if code in ("rateLimitExceeded",):
        return "rate_limited"
    if code in ("contentPolicyViolation", "timeoutProvider", "providerError", "taskFailedOrNotFound"):
        return "generation_failed"
    return "server_error"


def request(body: dict[str, Any]) -> IImageInference:
    fields = {key: value for key, value in body.items() if key in FIELDS}
    if isinstance(fields.get("providerSettings"), dict):
        fields["providerSettings"] = IBytedanceProviderSettings(**fields["providerSettings"].get("bytedance", {}))
    if isinstance(fields.get("inputs"), dict):
        fields["inputs"] = IInputs(**fields["inputs"])
    return IImageInference(**fields)


class Runner:
    def __init__(self) -> None:
        self.clients: dict[tuple[str, str], Runware] = {}

    async def client(self, base_url: str, api_key: str) -> Runware:
        key = (base_url, api_key)
        if key not in self.clients:
            client = Runware(api_key=api_key, url=base_url.replace("http", "ws", 1))
            await client.connect()
            self.clients[key] = client
        return self.clients[key]

    async def generate(self, message: dict[str, Any]) -> dict[str, Any]:
        body = message["body"]
        if body.get("taskType", "imageInference") != "imageInference":
            # imageInference() always sends its own taskType: an SDK user cannot send another one.
            detail = f"imageInference() sends taskType imageInference, not {body['taskType']!r}"
            return {"failure": {"kind": "invalid_request", "message": detail}}
        client = await self.client(message["base_url"], message["credentials"]["api_key"])
        runware.base.IMAGE_INFERENCE_TIMEOUT = int(message["timeout"] * 1000)
        try:
            images = await client.imageInference(requestImage=request(body))
            if isinstance(images, IAsyncTaskResponse):  # deliveryMethod async: poll for the results, as documented
                images = await client.getResponse(images.taskUUID, numberResults=body.get("numberResults", 1))
        except ValueError as error:
            # The SDK's own checks (an unknown deliveryMethod, say) raise ValueError before anything is sent.
            return {"failure": {"kind": "invalid_request", "message": f"refused by the SDK: {error}"}}
        except RunwareAPIError as error:
            return {"failure": {"kind": kind(str(error.code)), "message": str(error), "code": error.code}}
        except ConnectionError as error:
            return {"failure": {"kind": "connection", "message": str(error)}}
        except Exception as error:  # the SDK raises bare Exceptions for its timeouts
            if "Timeout" in str(error):
                return {"failure": {"kind": "timeout", "message": str(error)}}
            raise
        found = []
        for image in images or []:
            for field, kind_ in OUTPUTS:
                value = getattr(image, field, None)
                if value:
                    found.append({kind_: value})
                    break
        return {"images": found}


async def main() -> None:
    runner = Runner()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=512 * 2**20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"ready": True, "name": "runware-0.5.24", "capabilities": ["websocket"]}), flush=True)
    while line := await reader.readline():
        message = json.loads(line)
        try:
            reply = await runner.generate(message)
        except Exception as error:  # anything else the SDK raises is a crash to report
            reply = {
                "failure": {
                    "kind": "crash",
                    "message": f"{type(error).__name__}: {error}",
                    "exception": type(error).__name__,
                }
            }
        print(json.dumps({"id": message["id"], **reply}), flush=True)


asyncio.run(main())
