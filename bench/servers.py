"""The three servers the JSON-path benchmark compares, started the way a user starts them.

- the emulator: `python -m emulator serve` (uvicorn with uvloop and httptools, as installed), through
  `bench/recorder.py`, which records every garbage collection pause of the server process;
- a bare Starlette endpoint that parses the same body and answers a small JSON object, served by uvicorn with
  the same loop and parser;
- Stoplight Prism 5 (`prism mock -v silent`) validating the same task against an OpenAPI document built from
  contracts/runware.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .tools import CACHE, ROOT, ensure_prism

PROMPT = "A whimsical old-world bakery built into the side of a giant porcelain dragon statue, golden morning light"
MARK = "00000000-0000-4000-8000-000000000000"


def task(task_uuid: str = MARK, width: int = 2304, height: int = 1728) -> dict[str, Any]:
    """The benchmarked task: sync, URL output, one image."""
    return {
        "taskType": "imageInference",
        "taskUUID": task_uuid,
        "model": "bytedance:5@0",
        "positivePrompt": PROMPT,
        "width": width,
        "height": height,
        "seed": 5417,
        "outputType": "URL",
        "deliveryMethod": "sync",
        "includeCost": True,
        "providerSettings": {"bytedance": {"maxSequentialImages": 1}},
    }


def body_template(width: int = 2304, height: int = 1728) -> tuple[str, str]:
    """The request body around its taskUUID, for a load generator that fills in a fresh one per request."""
    prefix, _, suffix = json.dumps([task(MARK, width, height)]).partition(MARK)
    return prefix, suffix


def bare() -> Starlette:
    """`uvicorn --factory bench.servers:bare`: parse the body, answer a small JSON object."""

    async def endpoint(request: Request) -> JSONResponse:
        tasks = await request.json()
        return JSONResponse({"data": [{"taskType": tasks[0]["taskType"], "taskUUID": tasks[0]["taskUUID"]}]})

    return Starlette(routes=[Route("/runware/v1", endpoint, methods=["POST"])])


def emulator_command(port: int, pauses: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "bench" / "recorder.py"),
        str(pauses),
        "serve",
        "--port",
        str(port),
        "--timing",
        "instant",
        "--seed",
        "1",
        "--log-level",
        "warning",
        *extra,
    ]


def bare_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "bench.servers:bare",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def prism_command(port: int) -> list[str]:
    document = CACHE / "bench" / "runware-openapi.json"
    document.parent.mkdir(parents=True, exist_ok=True)
    document.write_text(json.dumps(openapi(), indent=1))
    return [str(ensure_prism()), "mock", "-v", "silent", "-p", str(port), "-h", "127.0.0.1", str(document)]


def openapi() -> dict[str, Any]:
    """An OpenAPI 3.1 document of `POST /runware/v1` with imageInference tasks, its schemas inlined from the contract
    (Prism validates the request body against them), and a reply example shaped like the emulator's."""
    directory = ROOT / "contracts" / "runware"
    documents = {path.stem: json.loads(path.read_text()) for path in directory.glob("*.json")}

    def inline(node: Any, document: str) -> Any:
        if isinstance(node, list):
            return [inline(item, document) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target, _, fragment = node["$ref"].partition("#")
            name = Path(target).stem if target else document
            found: Any = documents[name]
            for part in filter(None, fragment.split("/")):
                found = found[part]
            merged = {**copy.deepcopy(found), **{k: v for k, v in node.items() if k != "$ref"}}
            return inline(merged, name)
        return {
            key: inline(value, document)
            for key, value in node.items()
            if key not in ("$schema", "$id", "$defs", "examples") and not key.startswith("x-")
        }

    schema = inline(documents["imageInference"], "imageInference")
    reply = {
        "data": [
            {
                "taskType": "imageInference",
                "taskUUID": MARK,
                "imageUUID": "6ec0bd7f-11c0-43da-975e-2a8ad9ebae0b",
                "imageURL": "http://127.0.0.1:8000/files/6ec0bd7f-11c0-43da-975e-2a8ad9ebae0b.jpg",
                "seed": 5417,
                "cost": 0.03,
            }
        ]
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Runware imageInference (from contracts/runware)", "version": "1"},
        "paths": {
            "/runware/v1": {
                "post": {
                    "operationId": "tasks",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "minItems": documents["request"]["minItems"],
                                    "maxItems": documents["request"]["maxItems"],
                                    "items": schema,
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "results",
                            "content": {"application/json": {"schema": {"type": "object"}, "example": reply}},
                        },
                        "400": {"description": "a task breaks its contract"},
                    },
                }
            }
        },
    }
