"""Runs inside the openai virtualenv: the official OpenAI Python client pointed at Ark, unchanged but for its
base_url, as Ark's docs show (`OpenAI(base_url=".../api/v3").images.generate(..., extra_body={...})`).

argv[1]: a JSON file {"base": "http://.../ark/api/v3", "key": "...", "cases": [{"name", "args", "stream"?: bool, "key"?: str}]}
Each case calls client.images.generate(**args) (`stream`: with stream=True, collecting the events).
stdout: one JSON line {name: {"ok": reply or events} | {"error": {...}}}.
"""

import json
import sys

import openai
from openai import OpenAI


def describe(error: openai.APIError) -> dict:
    return {
        "class": type(error).__name__,
        "status": getattr(error, "status_code", None),
        "code": error.code,
        "param": error.param,
        "type": error.type,
        "message": error.message,
        "body": error.body,
    }


def run_case(client: OpenAI, case: dict) -> dict:
    if case.get("stream"):
        events = []
        try:
            for event in client.images.generate(stream=True, **case["args"]):
                events.append(event.model_dump(exclude_none=True))
        except openai.APIError as error:
            return {"events": events, "error": describe(error)}
        return {"events": events}
    reply = client.images.generate(**case["args"])
    return {"ok": reply.model_dump(exclude_none=True)}


def main() -> None:
    with open(sys.argv[1]) as handle:
        request = json.load(handle)
    outcomes = {}
    for case in request["cases"]:
        client = OpenAI(base_url=request["base"], api_key=case.get("key", request["key"]), max_retries=0)
        try:
            outcomes[case["name"]] = run_case(client, case)
        except openai.APIError as error:
            outcomes[case["name"]] = {"error": describe(error)}
    print(json.dumps(outcomes))


if __name__ == "__main__":
    main()
