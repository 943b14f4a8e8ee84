"""A deliberately plain client speaking the harness's JSON-lines protocol, with switches that break it.

    python naive_client.py [--webhooks] [--long-prompt] [--ignore-retry-after] [--stop-polling-early] [--drop-last]
                           [--bad-signature] [--ignore-timeout] [--accept-any-webhook]

Unbroken it is a correct client for Runware (async REST), Wiro and Replicate; each switch plants one
defect a conformance check must catch.
"""

import hashlib
import hmac
import json
import sys
import time
import uuid

import httpx

FLAGS = set(sys.argv[1:])
POLL = 0.2


class Failed(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def send(http, method, url, **kwargs):
    while True:
        response = http.request(method, url, **kwargs)
        if response.status_code == 429:
            if "--ignore-retry-after" not in FLAGS:
                time.sleep(float(response.headers.get("retry-after", 1)))
            continue
        if response.status_code >= 500:
            time.sleep(POLL)
            continue
        if response.status_code in (401, 403):
            raise Failed("auth", response.text)
        if response.status_code >= 400:
            raise Failed("invalid_request", response.text)
        return response.json()


def poll_until(deadline, step):
    polls = 0
    while True:
        if time.monotonic() > deadline and "--ignore-timeout" not in FLAGS:
            raise Failed("timeout", "the job did not finish in time")
        polls += 1
        done = step(early="--stop-polling-early" in FLAGS and polls >= 1)
        if done is not None:
            return done
        time.sleep(POLL)


def runware(http, message):
    task = {"taskUUID": str(uuid.uuid4()), **message["body"], "deliveryMethod": "async"}
    if "--long-prompt" in FLAGS:
        task["positivePrompt"] += ", highly detailed"
    headers = {"Authorization": f"Bearer {message['credentials']['api_key']}"}
    url = message["base_url"]
    try:
        send(http, "POST", url, json=[task], headers=headers)
    except Failed as failure:
        if "contentPolicyViolation" in str(failure):
            raise Failed("generation_failed", str(failure)) from None
        raise
    wanted = task.get("numberResults", 1)

    def step(early):
        body = send(
            http, "POST", url, json=[{"taskType": "getResponse", "taskUUID": task["taskUUID"]}], headers=headers
        )
        if body.get("errors"):
            raise Failed("generation_failed", json.dumps(body["errors"]))
        items = [item for item in body.get("data", []) if item.get("status") == "success"]
        if (
            early
            or len(items) >= wanted
            or (body.get("data") and all(i.get("status") == "success" for i in body["data"]))
        ):
            return [
                {"url": item.get("imageURL") or item.get("imageDataURI")}
                if "imageBase64Data" not in item
                else {"base64": item["imageBase64Data"]}
                for item in items
            ]
        return None

    return poll_until(time.monotonic() + message["timeout"], step)


def wiro(http, message):
    key, secret = message["credentials"]["api_key"], message["credentials"]["secret"]
    if "--bad-signature" in FLAGS:
        secret += "-wrong"

    def headers():
        nonce = str(time.time_ns() // 1000)
        signature = hmac.new(key.encode(), (secret + nonce).encode(), hashlib.sha256).hexdigest()
        return {"x-api-key": key, "x-nonce": nonce, "x-signature": signature}

    base = message["base_url"]
    task_id = send(http, "POST", f"{base}/Run/bytedance/seedream-v4", json=message["body"], headers=headers())["taskid"]

    def step(early):
        task = send(http, "POST", f"{base}/Task/Detail", json={"taskid": task_id}, headers=headers())["tasklist"][0]
        if task["status"] == "task_postprocess_end":
            if str(task.get("pexit")) != "0":
                raise Failed("generation_failed", str(task.get("debugerror")))
            return [{"url": output["url"]} for output in task["outputs"]]
        return [] if early else None

    return poll_until(time.monotonic() + message["timeout"], step)


def replicate(http, message):
    headers = {"Authorization": f"Bearer {message['credentials']['api_key']}"}
    base = message["base_url"]
    prediction = send(
        http, "POST", f"{base}/v1/models/bytedance/seedream-4/predictions", json=message["body"], headers=headers
    )

    def step(early):
        current = send(http, "GET", f"{base}/v1/predictions/{prediction['id']}", headers=headers)
        if current["status"] == "failed":
            raise Failed("generation_failed", str(current["error"]))
        if current["status"] == "succeeded":
            return [{"url": url} for url in current["output"]]
        return [] if early else None

    return poll_until(time.monotonic() + message["timeout"], step)


def verify(http, message):
    """Replicate's signature: base64 HMAC-SHA256 over `id.timestamp.body` with the account's secret."""
    import base64

    if "--accept-any-webhook" in FLAGS:
        return True
    headers = {name.lower(): value for name, value in message["headers"].items()}
    body = base64.b64decode(message["body_base64"]).decode()
    secret = send(
        http,
        "GET",
        f"{message['base_url']}/v1/webhooks/default/secret",
        headers={"Authorization": f"Bearer {message['credentials']['api_key']}"},
    )["key"]
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    digest = base64.b64encode(
        hmac.new(base64.b64decode(secret.removeprefix("whsec_")), signed, hashlib.sha256).digest()
    ).decode()
    return any(part.split(",", 1)[-1] == digest for part in headers["webhook-signature"].split())


def answer(http, message):
    if message["op"] == "verify_webhook":
        return {"accepted": verify(http, message)}
    try:
        images = {"runware": runware, "wiro": wiro, "replicate": replicate}[message["provider"]](http, message)
    except Failed as failure:
        return {"failure": {"kind": failure.kind, "message": str(failure)}}
    except httpx.TransportError as error:
        return {"failure": {"kind": "connection", "message": str(error)}}
    return {"images": images[:-1] if "--drop-last" in FLAGS else images}


def main():
    capabilities = ["webhooks"] if "--accept-any-webhook" in FLAGS or "--webhooks" in FLAGS else []
    print(
        json.dumps({"ready": True, "name": "naive " + " ".join(sorted(FLAGS)), "capabilities": capabilities}),
        flush=True,
    )
    with httpx.Client(timeout=30) as http:
        for line in sys.stdin:
            message = json.loads(line)
            print(json.dumps({"id": message["id"], **answer(http, message)}), flush=True)


main()
