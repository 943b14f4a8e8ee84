"""The official fal-client 1.0.3, unchanged, against the emulator: its hosts come from FAL_RUN_HOST and
FAL_QUEUE_RUN_HOST (read at import), its trust from SSL_CERT_FILE. Prints one JSON object of what it saw."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import fal_client

APP = "fal-ai/bytedance/seedream/v4/text-to-image"
EDIT = "fal-ai/bytedance/seedream/v4/edit"


def main() -> None:
    payload = json.loads(Path(sys.argv[1]).read_text())
    seen: dict = {}
    updates: list[str] = []
    seen["subscribe"] = fal_client.subscribe(
        APP,
        arguments={"prompt": "a lighthouse at dusk", "image_size": "square_hd", "seed": 7},
        with_logs=True,
        on_queue_update=lambda update: updates.append(type(update).__name__),
    )
    seen["updates"] = updates
    handle = fal_client.submit(EDIT, arguments={"prompt": "add a cat", "image_urls": [payload["reference"]]})
    seen["request_id"] = handle.request_id
    status = handle.status(with_logs=True)
    seen["first_status"] = type(status).__name__
    seen["result"] = handle.get()
    completed = fal_client.status(EDIT, handle.request_id, with_logs=True)
    seen["completed_logs"] = completed.logs
    seen["fetched_again"] = fal_client.result(EDIT, handle.request_id)
    seen["run"] = fal_client.run(APP, arguments={"prompt": "a fox", "sync_mode": True})
    slow = fal_client.submit(APP, arguments={"prompt": "a slow one"})
    fal_client.cancel(APP, slow.request_id)
    try:
        slow.get()
        seen["cancelled_result"] = None
    except fal_client.client.FalClientHTTPError as error:
        seen["cancelled_result"] = {"status": error.status_code, "message": str(error)}
    try:
        fal_client.run(APP, arguments={"prompt": "x", "num_images": 9})
    except fal_client.client.FalClientHTTPError as error:
        seen["invalid"] = {"status": error.status_code, "detail": error.message}
    hooked = fal_client.submit(APP, arguments={"prompt": "a webhook"}, webhook_url=payload["webhook"])
    seen["hooked"] = hooked.request_id
    hooked.get()
    time.sleep(0.2)
    print(json.dumps(seen))


main()
