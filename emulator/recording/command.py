"""`seedream-emulator record --upstream SURFACE=URL ... [--cassette FILE]`: the recording proxy on a port."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path

import uvicorn

from contracts.cassette import recordable

from .proxy import Recording, UpstreamError, parse_upstreams, record_app


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    record = commands.add_parser(
        "record",
        help="record real traffic through a proxy into a cassette",
        description="Run a recording proxy laid out like the emulator (/<surface>/...): point a client at it as at "
        "the emulator; each exchange goes to the upstream and is written, redacted, to the cassette (docs/drift.md).",
    )
    record.add_argument(
        "--upstream",
        action="append",
        required=True,
        metavar="SURFACE[=URL]",
        help=f"record SURFACE ({', '.join(recordable())}) from URL; a bare SURFACE uses the provider's real URL; "
        "SURFACE.ws=URL sets the WebSocket base (repeatable)",
    )
    record.add_argument("--cassette", metavar="FILE", help="where to write (default cassettes/<UTC time>.jsonl)")
    record.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    record.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    record.add_argument(
        "--public-url",
        dest="public_url",
        metavar="URL",
        help="how the providers reach this proxy for callbacks (a tunnel); default: the URL the client used",
    )
    record.add_argument("--log-level", dest="log_level", default="info")


def main(args: argparse.Namespace) -> int:
    try:
        upstreams = parse_upstreams(args.upstream)
    except UpstreamError as exc:
        print(f"seedream-emulator: {exc}", flush=True)
        return 2
    path = Path(args.cassette or f"cassettes/{datetime.now(UTC):%Y%m%dT%H%M%SZ}.jsonl")
    recording = Recording(path, upstreams, args.public_url)
    print(f"Recording to {path}", flush=True)
    for surface, upstream in upstreams.items():
        socket = f" (WebSocket {upstream.websocket})" if upstream.websocket else ""
        print(f"  http://{args.host}:{args.port}/{surface} -> {upstream.http}{socket}", flush=True)
    config = uvicorn.Config(record_app(recording), host=args.host, port=args.port, log_level=args.log_level)
    # uvicorn stops on Ctrl-C / SIGTERM, closes the cassette in its shutdown, then raises the interrupt again.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(uvicorn.Server(config).serve())
    recording.close()
    print(f"Wrote {recording.count} exchange(s) to {path}", flush=True)
    return 0
