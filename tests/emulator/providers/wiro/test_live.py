"""The Wiro surface over a real port: HTTP with httpx, the socket with the `websockets` package."""

from __future__ import annotations

import json

import httpx
from websockets.sync.client import connect

from contracts.counts import ask
from emulator import read_metadata
from tests.sdk.live import LiveEmulator
from tests.support import FilePart, image_bytes

from .conftest import signed_headers


def test_upload_run_and_follow_the_socket_over_the_network() -> None:
    with LiveEmulator(timing="instant") as live, httpx.Client(base_url=live.base + "/wiro/v1", timeout=10) as http:
        uploaded = http.post(
            "/File/Upload", headers=signed_headers(), files={"file": ("ref.png", image_bytes(), "image/png")}
        )
        reference = uploaded.json()["list"][0]["url"]
        files: list[FilePart] = [
            ("inputImage", ("local.jpg", image_bytes(32, 32, "JPEG"), "image/jpeg")),
            ("inputImage", (None, reference)),
            ("prompt", (None, ask("A serene desert landscape at dusk", 2))),
            ("size", (None, "2304x1728")),
            ("maxImages", (None, "2")),
        ]
        reply = http.post("/Run/bytedance/seedream-v4", headers=signed_headers(), files=files).json()
        assert reply["result"] is True, reply

        with connect(f"{live.ws_base}/wiro/v1", open_timeout=10) as socket:
            assert json.loads(socket.recv(timeout=10)) == {"type": "connected", "version": "1.0"}
            socket.send(json.dumps({"type": "task_info", "tasktoken": reply["socketaccesstoken"]}))
            frames = [json.loads(socket.recv(timeout=10))]
            while not frames[-1]["terminal"]:
                frames.append(json.loads(socket.recv(timeout=10)))

        assert frames[0]["type"] == "task_queue" and frames[-1]["type"] == "task_postprocess_end"
        assert [frame["type"] for frame in frames].count("task_output") == 2
        outputs = frames[-1]["message"]
        for index, output in enumerate(outputs):
            image = httpx.get(output["url"], timeout=10).content
            assert len(image) == int(output["size"])
            record = read_metadata(image)
            assert (record["width"], record["height"], record["index"], record["reference_count"]) == (
                2304,
                1728,
                index,
                2,
            )

        detail = http.post(
            "/Task/Detail", headers=signed_headers(), json={"tasktoken": reply["socketaccesstoken"]}
        ).json()
        assert detail["tasklist"][0]["outputs"] == outputs
