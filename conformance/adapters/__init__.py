"""Adapters by name: the reference clients, the official SDKs, and any client over JSON lines."""

from __future__ import annotations

import importlib.util
import shlex
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from contracts.surfaces import SURFACES as PROVIDERS

from .. import npm, venvs
from .base import (
    CANCEL,
    WEBHOOKS,
    Adapter,
    AdapterUnavailable,
    CancelingAdapter,
    Failure,
    GenerateRequest,
    GenerateResult,
    ImageResult,
    WebhookAdapter,
    WebhookVerdict,
)
from .jsonlines import SubprocessAdapter

RUNNERS = Path(__file__).parent / "runners"


@dataclass(frozen=True)
class AdapterSpec:
    name: str
    command: tuple[str, ...] = ()
    # Set by the runner when it serves the emulator over TLS: the CA an https-only client must trust.
    ca_file: Path | None = None

    @classmethod
    def parse(cls, text: str) -> AdapterSpec:
        """`reference`, `replicate`, ... or `subprocess:COMMAND ARGS` for a JSON-lines client."""
        name, _, command = text.partition(":")
        if name == "subprocess":
            if not command.strip():
                raise ValueError("subprocess needs a command: subprocess:'node client.js'")
            return cls("subprocess", tuple(shlex.split(command)))
        if name not in ADAPTERS:
            raise ValueError(f"unknown adapter {name!r}; choose from {', '.join(ADAPTERS)} (as subprocess:COMMAND)")
        return cls(name)


@dataclass(frozen=True)
class AdapterInfo:
    providers: tuple[str, ...]
    description: str
    factory: Callable[[AdapterSpec, str], Awaitable[Adapter]]
    # The client speaks only https (fal-client), so the runner serves the emulator over TLS for it.
    https_only: bool = False


async def _reference(spec: AdapterSpec, provider: str) -> Adapter:
    from .reference import reference_adapter

    return reference_adapter(provider)


async def _replicate(spec: AdapterSpec, provider: str) -> Adapter:
    if importlib.util.find_spec("replicate") is None:
        raise AdapterUnavailable("the replicate adapter drives the installed client: pip install replicate==1.0.7")
    from .replicate_sdk import ReplicateSdkAdapter

    return ReplicateSdkAdapter()


def _runware_sdk(transport: str) -> Callable[[AdapterSpec, str], Awaitable[Adapter]]:
    async def factory(spec: AdapterSpec, provider: str) -> Adapter:
        python = venvs.python_for("runware-sdk-1.8.0", "runware-sdk==1.8.0")
        command = [str(python), str(RUNNERS / "runware_sdk.py"), transport]
        return await SubprocessAdapter(command, name=f"runware-sdk-1.8.0-{transport}", provider=provider).open()

    return factory


async def _runware_legacy(spec: AdapterSpec, provider: str) -> Adapter:
    python = venvs.python_for("runware-0.5.24", "runware==0.5.24")
    command = [str(python), str(RUNNERS / "runware_legacy.py")]
    # 0.5.24 reads its timeouts once, at import; 30 s bounds a sync call, 5 s each getResponse wait.
    env = {"RUNWARE_IMAGE_INFERENCE_TIMEOUT": "30000", "RUNWARE_VIDEO_INITIAL_TIMEOUT": "5000"}
    return await SubprocessAdapter(command, name="runware-0.5.24", provider=provider, env=env).open()


async def _fal_client(spec: AdapterSpec, provider: str) -> Adapter:
    python = venvs.python_for("fal-client-1.0.3", "fal-client==1.0.3")
    # A CA the user trusts already (a remote emulator under --tls) stays; the runner's own TLS emulator brings its CA.
    env = {"SSL_CERT_FILE": str(spec.ca_file)} if spec.ca_file is not None else {}
    command = [str(python), str(RUNNERS / "fal_python.py")]
    return await SubprocessAdapter(command, name="fal-client-1.0.3", provider=provider, env=env).open()


def _node_client(runner: str, name: str, *packages: str) -> Callable[[AdapterSpec, str], Awaitable[Adapter]]:
    async def factory(spec: AdapterSpec, provider: str) -> Adapter:
        try:
            modules = npm.modules_for(name, *packages)
            command = [npm.node(), str(RUNNERS / runner)]
        except npm.NodeUnavailable as error:
            raise AdapterUnavailable(str(error)) from error
        return await SubprocessAdapter(command, name=name, provider=provider, env=npm.node_env(modules)).open()

    return factory


def _ark_sdk(flavour: str, name: str, *requirements: str) -> Callable[[AdapterSpec, str], Awaitable[Adapter]]:
    async def factory(spec: AdapterSpec, provider: str) -> Adapter:
        python = venvs.python_for(name, *requirements)
        command = [str(python), str(RUNNERS / "ark_sdk.py"), flavour]
        return await SubprocessAdapter(command, name=name, provider=provider).open()

    return factory


async def _subprocess(spec: AdapterSpec, provider: str) -> Adapter:
    return await SubprocessAdapter(spec.command, name=shlex.join(spec.command), provider=provider).open()


ADAPTERS: dict[str, AdapterInfo] = {
    "reference": AdapterInfo(PROVIDERS, "the reference clients of this project (clients/)", _reference),
    "replicate": AdapterInfo(("replicate",), "the official replicate 1.0.7 Python client", _replicate),
    "runware-sdk-rest": AdapterInfo(
        ("runware",), "the official runware-sdk 1.8.0, REST transport", _runware_sdk("rest")
    ),
    "runware-sdk-ws": AdapterInfo(
        ("runware",), "the official runware-sdk 1.8.0, WebSocket transport", _runware_sdk("websocket")
    ),
    "runware-legacy": AdapterInfo(("runware",), "the official runware 0.5.24 (WebSocket)", _runware_legacy),
    "replicate-js": AdapterInfo(
        ("replicate",),
        f"the official {npm.REPLICATE_JS} npm client (Node)",
        _node_client("replicate_js.js", "replicate-1.4.0", npm.REPLICATE_JS),
    ),
    "runware-js": AdapterInfo(
        ("runware",),
        f"the official {npm.RUNWARE_JS} npm client (Node, WebSocket)",
        _node_client("runware_js.js", "runware-sdk-js-1.3.2", npm.RUNWARE_JS),
    ),
    "fal-js": AdapterInfo(
        ("fal",),
        f"the official {npm.FAL_JS} npm client (Node, through its proxyUrl)",
        _node_client("fal_js.js", "fal-ai-client-1.10.1", npm.FAL_JS),
    ),
    "fal-client": AdapterInfo(
        ("fal",), "the official fal-client 1.0.3 Python client (https only)", _fal_client, https_only=True
    ),
    "openai-ark": AdapterInfo(
        ("ark",),
        "the official openai 3.51.0 Python client pointed at Ark (extra_body for Ark's fields)",
        _ark_sdk("openai", "openai-3.51.0", "openai==3.51.0"),
    ),
    "ark-runtime": AdapterInfo(
        ("ark",),
        "Ark's official Python client, volcengine-ark-runtime 5.0.54",
        _ark_sdk("volcengine", "volcengine-ark-runtime-5.0.54", "volcengine-ark-runtime==5.0.54"),
    ),
    "subprocess": AdapterInfo(PROVIDERS, "any client speaking JSON lines (docs/conformance.md)", _subprocess),
}


async def load_adapter(spec: AdapterSpec, provider: str) -> Adapter:
    info = ADAPTERS[spec.name]
    if provider not in info.providers:
        raise AdapterUnavailable(f"adapter {spec.name} drives {', '.join(info.providers)}, not {provider}")
    try:
        return await info.factory(spec, provider)
    except AdapterUnavailable:
        raise
    except (ImportError, OSError, subprocess.SubprocessError, ValueError) as error:
        raise AdapterUnavailable(f"cannot start adapter {spec.name}: {type(error).__name__}: {error}") from error


__all__ = [
    "ADAPTERS",
    "CANCEL",
    "WEBHOOKS",
    "Adapter",
    "AdapterInfo",
    "AdapterSpec",
    "AdapterUnavailable",
    "CancelingAdapter",
    "Failure",
    "GenerateRequest",
    "GenerateResult",
    "ImageResult",
    "SubprocessAdapter",
    "WebhookAdapter",
    "WebhookVerdict",
    "load_adapter",
]
