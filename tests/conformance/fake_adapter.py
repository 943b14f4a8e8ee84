"""A JSON-lines adapter that breaks the protocol in one chosen way, for `adapter-check`'s tests.

    python fake_adapter.py MODE

MODE: good (junk line, then a valid conversation), bad-capability, wrong-id, image-key, no-ready, silent.
"""

import json
import sys

mode = sys.argv[1]
print("starting up (not JSON, ignored)", flush=True)
if mode == "no-ready":
    sys.exit(3)
capabilities = ["cancel-jobs"] if mode == "bad-capability" else ["cancel"]
print(json.dumps({"ready": True, "name": f"fake-{mode}", "capabilities": capabilities}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    if mode == "silent":
        continue
    reply: dict = {"id": "nope" if mode == "wrong-id" else request["id"]}
    if request["op"] == "start":
        reply["job_id"] = "job-1"
    elif request["op"] == "generate" and mode == "image-key":
        reply["images"] = [{"imageURL": "http://example.invalid/a.png"}]
    elif request["op"] in ("generate", "wait"):
        reply["failure"] = {"kind": "invalid_request", "message": "refused"}
    print(json.dumps(reply), flush=True)
