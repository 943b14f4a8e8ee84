"""`seedream-emulator serve ...`"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, get_args

import uvicorn

from contracts import openapi
from contracts.counts import MODES

from . import __version__, memory, tls
from .core.collector import Collector
from .core.renderers import RENDERERS
from .core.timing import Timing
from .recording import command as record_command
from .settings import PROVIDERS, Settings, SettingsError
from .tls import TlsFiles

TLS_SHUTDOWN_GRACE = 5


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="seedream-emulator",
        description="Offline emulator of the Seedream 4.0/4.5 image APIs of Runware, Wiro, EvoLink and Replicate.",
    )
    root.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the emulator", description="Start the emulator.")
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1; 0.0.0.0 in containers)")
    serve.add_argument("--port", type=int, help="port to bind (default 8000)")
    serve.add_argument(
        "--provider",
        choices=("all", *PROVIDERS),
        help="serve every surface under its own prefix (all, the default) or one surface at the root",
    )
    serve.add_argument("--public-url", dest="public_url", help="base of the URLs the emulator hands out")
    serve.add_argument("--timing", choices=get_args(Timing), help="how long jobs take (default fast)")
    serve.add_argument("--seed", type=int, help="seed for ids, random seeds and faults (default: random, printed)")
    serve.add_argument(
        "--api-key",
        dest="api_keys",
        action="append",
        metavar="KEY",
        help="accept only this key (repeatable); without it any non-empty key is accepted",
    )
    serve.add_argument(
        "--wiro-project",
        dest="wiro_projects",
        action="append",
        metavar="KEY:SECRET[:keyonly]",
        help="a Wiro project (repeatable); default: wiro-dev-key:wiro-dev-secret in signature mode",
    )
    serve.add_argument("--tls", action="store_true", default=None, help="serve HTTPS with a locally generated CA")
    serve.add_argument("--tls-dir", dest="tls_dir", metavar="DIR", help="where --tls keeps its CA (DIR/ca.pem)")
    serve.add_argument(
        "--strict",
        action="store_true",
        default=None,
        help="reject exactly what the real providers reject (e.g. plain-HTTP or loopback callbacks)",
    )
    serve.add_argument(
        "--image-count",
        dest="image_count",
        choices=MODES,
        help="group generations make as many images as the prompt asks, capped by the request (prompt, the default), "
        "or always the cap (max)",
    )
    serve.add_argument(
        "--scenario",
        metavar="FILE",
        help="TOML or JSON file with keys, limits, timing and fault rules to apply at start (docs/control-api.md)",
    )
    serve.add_argument(
        "--control-token",
        dest="control_token",
        metavar="TOKEN",
        help="require Authorization: Bearer TOKEN on /_emulator (shared machines, containers reached by name)",
    )
    serve.add_argument(
        "--control-host",
        dest="control_hosts",
        action="append",
        metavar="NAME",
        help="a host name the control plane answers besides loopback (repeatable), e.g. a compose service name",
    )
    serve.add_argument(
        "--state",
        metavar="DIR",
        help="keep jobs, records, uploads and pending webhooks in DIR (SQLite) so they survive a restart or a kill; "
        "without it, everything is in memory",
    )
    serve.add_argument("--config", metavar="FILE", help="TOML file with settings (see the README)")
    serve.add_argument("--log-level", dest="log_level", choices=("critical", "error", "warning", "info", "debug"))
    serve.add_argument(
        "--replay",
        metavar="CASSETTE",
        help="answer requests recorded in CASSETTE with their recorded replies; the emulator answers the rest "
        "(listed at /_emulator/replay; docs/drift.md)",
    )
    record_command.add_parser(commands)
    document = commands.add_parser(
        "openapi",
        help="write a surface's OpenAPI 3.1 document",
        description="Write the OpenAPI 3.1 document of one surface, generated from its contract (a running emulator "
        "serves the same at /_emulator/openapi/<surface>.json).",
    )
    document.add_argument("--provider", required=True, choices=PROVIDERS, help="the surface to describe")
    document.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    document.add_argument(
        "--server",
        metavar="URL",
        help="the surface's base URL in the document (default http://127.0.0.1:8000/<provider>)",
    )
    return root


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings a `serve` command line asks for: every flag whose destination is a setting, where given."""
    given = {name: value for name, value in vars(args).items() if name in Settings.model_fields and value is not None}
    return Settings.load(config_file=args.config, **given)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "record":
        return record_command.main(args)
    if args.command == "openapi":
        return write_openapi(args.provider, args.out, args.server)
    try:
        settings = settings_from(args)
    except SettingsError as exc:
        print(f"seedream-emulator: {exc}", file=sys.stderr)
        return 2
    memory.return_large_blocks()
    return run(serve(settings))


def run(main: Coroutine[Any, Any, int]) -> int:
    """Run the server on uvloop when it is installed, as uvicorn itself does by default (`--loop auto`)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def write_openapi(provider: str, out: str | None, server: str | None) -> int:
    text = json.dumps(openapi.document(provider, server), indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"seedream-emulator: cannot write {out}: {exc}", file=sys.stderr)
        return 2
    return 0


async def serve(settings: Settings) -> int:
    from .app import create_app, server_options

    try:
        tls_files = _tls_files(settings)
    except OSError as exc:
        print(f"seedream-emulator: cannot prepare TLS files: {exc}", file=sys.stderr)
        return 2
    RENDERERS.use_processes()  # core/renderers.py says why only here
    try:
        app = create_app(settings)
    except SettingsError as exc:
        print(f"seedream-emulator: {exc}", file=sys.stderr)
        return 2
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        **server_options(settings),
        ssl_certfile=str(tls_files.server_cert) if tls_files else None,
        ssl_keyfile=str(tls_files.server_key) if tls_files else None,
        # Idle TLS keep-alive connections otherwise hold shutdown until the TLS close handshake times out.
        timeout_graceful_shutdown=TLS_SHUTDOWN_GRACE if tls_files else None,
    )
    server = uvicorn.Server(config)
    announcer = asyncio.create_task(_announce(server, app, tls_files))
    jobs = app.state.emulator.runtime.jobs
    # Full collections only when the heap grows, counted from when the retention is full (core/collector.py says why).
    collector = Collector(settled=lambda: len(jobs) >= jobs.max_jobs)
    collector.install()
    sweeper = asyncio.create_task(collector.run())
    try:
        await server.serve()
    finally:
        announcer.cancel()
        sweeper.cancel()
        collector.uninstall()
    return 0 if server.started else 1


def _tls_files(settings: Settings) -> TlsFiles | None:
    """--tls (or --tls-dir, which implies it): a local CA in DIR/ca.pem and a fresh server certificate."""
    if not (settings.tls or settings.tls_dir):
        return None
    return tls.prepare(settings.tls_dir, tls.hostnames_for(settings.host, settings.public_url))


async def _announce(server: uvicorn.Server, app, tls_files: TlsFiles | None = None) -> None:  # type: ignore[no-untyped-def]
    while not server.started:
        await asyncio.sleep(0.05)
    settings: Settings = app.state.emulator.settings
    port = server.servers[0].sockets[0].getsockname()[1] if server.servers else settings.port
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    scheme = "https" if tls_files else "http"
    base = app.state.emulator.runtime.public_url or f"{scheme}://{host}:{port}"
    print(
        f"Seedream emulator {__version__}: timing {settings.timing}, seed {app.state.emulator.runtime.ids.seed}",
        flush=True,
    )
    for surface in app.state.emulator.surfaces:
        for label, url in surface.endpoints(base + settings.prefix(surface.name)):
            print(f"  {surface.title:<10} {label:<10} {url}", flush=True)
    print(f"  {'files':<10} {'GET':<10} {base}/files/<id>.<jpg|png|webp>", flush=True)
    print(f"  {'control':<10} {'health':<10} {base}/_emulator/health", flush=True)
    replay = app.state.emulator.replay
    if replay is not None:
        print(f"  {'replay':<10} {'unmatched':<10} {base}/_emulator/replay ({replay.source})", flush=True)
    # With a control token, append #token=TOKEN to open it signed in (the page keeps it out of the address bar).
    print(f"  {'dashboard':<10} {'browser':<10} {base}/_emulator/ui/", flush=True)
    if tls_files:
        print(f"  {'TLS':<10} {'CA':<10} {tls_files.ca_cert}", flush=True)
        print(f"  Trust it in clients with: export {tls_files.trust_hint()}", flush=True)
