"""JSON-lines runner for the official fal-client 1.0.3 (PyPI), run inside its own virtualenv.

Speaks the protocol of conformance/adapters/jsonlines.py. fal-client always speaks https and reads its
two hosts from FAL_RUN_HOST and FAL_QUEUE_RUN_HOST once, at import, so the runner sets them from the
first request's base URL (`https://HOST:PORT/fal` gives `HOST:PORT/fal/run` and `HOST:PORT/fal/queue`,
the emulator's layout) before it imports the client, as a user would in the shell. The emulator's CA
comes through SSL_CERT_FILE, set by the harness. Named so that it does not shadow `fal_client`.
"""

import concurrent.futures
import importlib
import json
import os
import sys
from typing import Any

CLIENT: Any = None
BASE: list[str] = []
POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4)


class Unreachable(Exception):
    """The request cannot be sent the way fal-client sends requests."""


def client_module(base_url: str) -> Any:
    """fal_client, imported once with its hosts pointed at `base_url`."""
    global CLIENT
    if not base_url.startswith("https://"):
        raise Unreachable(f"fal-client speaks only https; {base_url} is not (serve the emulator with --tls)")
    host = base_url.removeprefix("https://").rstrip("/")
    if CLIENT is None:
        os.environ["FAL_RUN_HOST"] = f"{host}/run"
        os.environ["FAL_QUEUE_RUN_HOST"] = f"{host}/queue"
        CLIENT = importlib.import_module("fal_client")
        BASE.append(base_url)
    elif BASE[0] != base_url:
        raise Unreachable(f"fal-client fixed its hosts at import for {BASE[0]}; start another runner for {base_url}")
    return CLIENT


def kind(status: int, method: str, path: str) -> str:
    """A failure kind from fal's HTTP status and the request it answered: the submit, a poll, or the result."""
    if status in (401, 403):
        return "auth"
    if status == 429:
        return "rate_limited"
    if status == 499:
        return "canceled"
    is_result = method == "GET" and not path.endswith("/status")
    if is_result and (status == 422 or status >= 500):
        return "generation_failed"  # the app ran and failed: fal answers the result with its error
    if status >= 500:
        return "server_error"
    return "invalid_request"


class Runner:
    def __init__(self) -> None:
        self.clients: dict[tuple[str, str, float], Any] = {}

    def client(self, message: dict[str, Any]) -> Any:
        fal = client_module(message["base_url"])
        key = (message["base_url"], message["credentials"]["api_key"], float(message["timeout"]))
        if key not in self.clients:
            self.clients[key] = fal.SyncClient(key=key[1], default_timeout=key[2])
        return self.clients[key]

    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.dispatch(message)
        except Unreachable as error:
            return {"failure": {"kind": "connection", "message": str(error)}}
        except Exception as error:
            return self.failure(error)

    def dispatch(self, message: dict[str, Any]) -> dict[str, Any]:
        client = self.client(message)
        body = message.get("body") or {}
        app = body.get("app")
        if not isinstance(app, str):
            # The client takes the app id as its own argument: a request without one cannot be sent.
            return {"failure": {"kind": "invalid_request", "message": "fal-client needs an app id"}}
        arguments = body.get("input") if isinstance(body.get("input"), dict) else {}
        webhook = body.get("webhook") or message.get("webhook_url")
        op = message["op"]
        if op == "start":
            return {"job_id": client.submit(app, arguments, webhook_url=webhook).request_id}
        if op == "cancel":
            client.cancel(app, message["job_id"])
            return {}
        if op == "wait":
            return self.bounded(lambda: client.get_handle(app, message["job_id"]).get(), message, message["job_id"])
        if webhook:
            handle = client.submit(app, arguments, webhook_url=webhook)
            return self.bounded(handle.get, message, handle.request_id)
        ids: list[str] = []
        output = client.subscribe(app, arguments, on_enqueue=ids.append, client_timeout=float(message["timeout"]))
        return {"images": images(output), "job_id": ids[0] if ids else None}

    def bounded(self, wait: Any, message: dict[str, Any], request_id: str) -> dict[str, Any]:
        """Wait as subscribe(client_timeout=...) does: the harness's timeout bounds the whole wait."""
        future = POOL.submit(wait)
        try:
            output = future.result(timeout=float(message["timeout"]))
        except concurrent.futures.TimeoutError:
            detail = f"request {request_id} timed out after {message['timeout']} seconds"
            return {"failure": {"kind": "timeout", "message": detail}, "job_id": request_id}
        return {"images": images(output), "job_id": request_id}

    def failure(self, error: Exception) -> dict[str, Any]:
        fal = CLIENT
        if fal is not None and isinstance(error, fal.client.FalClientTimeoutError):
            return {"failure": {"kind": "timeout", "message": str(error)}}
        if fal is not None and isinstance(error, fal.client.FalClientHTTPError):
            detail = error.message if isinstance(error.message, str) else json.dumps(error.message)
            request = error.response.request
            found = kind(error.status_code, request.method, request.url.path)
            failure = {"kind": found, "message": detail, "code": error.status_code}
            return {"failure": failure}
        httpx = sys.modules.get("httpx")
        if httpx is not None and isinstance(error, httpx.TimeoutException):
            return {"failure": {"kind": "timeout", "message": f"{type(error).__name__}: {error}"}}
        if httpx is not None and isinstance(error, httpx.TransportError):
            return {"failure": {"kind": "connection", "message": f"{type(error).__name__}: {error}"}}
        # Anything else fal-client lets out (a KeyError on an odd reply, say) is a crash to report.
        message = f"{type(error).__name__}: {error}"
        return {"failure": {"kind": "crash", "message": message, "exception": type(error).__name__}}


def images(output: Any) -> list[dict[str, str]]:
    return [{"url": image["url"]} for image in output["images"]]


def main() -> None:
    runner = Runner()
    print(json.dumps({"ready": True, "name": "fal-client-1.0.3", "capabilities": ["cancel"]}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        print(json.dumps({"id": message["id"], **runner.handle(message)}), flush=True)


main()
