"""Copy-paste starts for the dashboard: per surface, a curl call and a client call aimed at this emulator.

They are the README's quickstarts with this emulator's own address and keys filled in. Where the provider ships
an official Python SDK that works against the emulator (Runware, Replicate) the client call uses it; otherwise
(Wiro, EvoLink publish none) it uses the project's reference client from `clients/`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Snippet:
    label: str
    language: str
    code: str

    def as_dict(self) -> dict[str, str]:
        return {"label": self.label, "language": self.language, "code": self.code}


@dataclass(frozen=True)
class Address:
    """Where one surface is reached, and with what credentials."""

    base: str  # the surface's root (its prefix, or the emulator's root when it is the only surface)
    key: str  # a key the Bearer surfaces accept
    wiro_key: str
    wiro_secret: str

    @property
    def socket_base(self) -> str:
        return "ws" + self.base.removeprefix("http")


def _runware(at: Address) -> list[Snippet]:
    return [
        Snippet(
            "curl",
            "sh",
            f"curl -s {at.base}/v1 \\\n"
            f"  -H 'Authorization: Bearer {at.key}' -H 'Content-Type: application/json' \\\n"
            """  -d '[{"taskType": "imageInference", "taskUUID": "d0e27e41-af62-43be-926c-8211a3a92adb",\n"""
            """        "model": "bytedance:5@0", "positivePrompt": "a porcelain dragon bakery",\n"""
            """        "width": 2048, "height": 2048}]'""",
        ),
        Snippet(
            "runware-sdk (official)",
            "python",
            "import asyncio\nfrom runware import Runware\n\n\nasync def main():\n"
            "    async with Runware(\n"
            f'        api_key="{at.key}",\n'
            '        transport="rest",\n'
            f'        http_base_url="{at.base}/v1",\n'
            f'        ws_base_url="{at.socket_base}/v1",\n'
            "    ) as client:\n"
            "        images = await client.run(\n"
            '            {"taskType": "imageInference", "model": "bytedance:seedream@4.5",\n'
            '             "positivePrompt": "a lighthouse at dusk", "resolution": "2K"}\n'
            "        )\n"
            '        print([image["imageURL"] for image in images])\n\n\n'
            "asyncio.run(main())",
        ),
    ]


def _wiro(at: Address) -> list[Snippet]:
    return [
        Snippet(
            "curl",
            "sh",
            "NONCE=$(date +%s%N | cut -c1-13)\n"
            f'SIG=$(echo -n "{at.wiro_secret}${{NONCE}}" | openssl dgst -sha256 -hmac {at.wiro_key}'
            " | awk '{print $NF}')\n"
            f"curl -s {at.base}/v1/Run/bytedance/seedream-v4 \\\n"
            f'  -H "x-api-key: {at.wiro_key}" -H "x-nonce: $NONCE" -H "x-signature: $SIG" \\\n'
            '  -F "prompt=A serene desert landscape at dusk" -F "size=2048x2048"',
        ),
        Snippet(
            "reference client (Wiro publishes no Python SDK)",
            "python",
            "from clients.wiro import WiroClient\n\n"
            f'with WiroClient("{at.wiro_key}", secret="{at.wiro_secret}", base_url="{at.base}/v1") as wiro:\n'
            '    [image] = wiro.generate({"prompt": "a serene desert at dusk", "size": "2048x2048"})\n'
            "    print(image.url)",
        ),
    ]


def _evolink(at: Address) -> list[Snippet]:
    return [
        Snippet(
            "curl",
            "sh",
            f"curl -s {at.base}/v1/images/generations \\\n"
            f"  -H 'Authorization: Bearer {at.key}' -H 'Content-Type: application/json' \\\n"
            """  -d '{"model": "doubao-seedream-4.0", "prompt": "a paper lantern", "size": "16:9"}'\n"""
            f"curl -s {at.base}/v1/tasks/TASK_ID -H 'Authorization: Bearer {at.key}'",
        ),
        Snippet(
            "reference client (EvoLink publishes no Python SDK)",
            "python",
            "from clients.evolink import EvoLinkClient\n\n"
            f'with EvoLinkClient("{at.key}", base_url="{at.base}") as evolink:\n'
            '    [image] = evolink.generate({"model": "doubao-seedream-4.0", "prompt": "a paper lantern"})\n'
            "    print(image.url)",
        ),
    ]


def _replicate(at: Address) -> list[Snippet]:
    return [
        Snippet(
            "curl",
            "sh",
            f"curl -s {at.base}/v1/models/bytedance/seedream-4/predictions \\\n"
            f"  -H 'Authorization: Bearer {at.key}' -H 'Content-Type: application/json' -H 'Prefer: wait' \\\n"
            """  -d '{"input": {"prompt": "a red fox in fresh snow", "size": "2K"}}'""",
        ),
        Snippet(
            "replicate (official)",
            "python",
            "from replicate.client import Client\n\n"
            f'client = Client(api_token="{at.key}", base_url="{at.base}")\n'
            'output = client.run("bytedance/seedream-4", input={"prompt": "a red fox in fresh snow", "size": "2K"})\n'
            'open("fox.jpg", "wb").write(output[0].read())',
        ),
    ]


def _ark(at: Address) -> list[Snippet]:
    return [
        Snippet(
            "curl",
            "sh",
            f"curl -s {at.base}/api/v3/images/generations \\\n"
            f"  -H 'Authorization: Bearer {at.key}' -H 'Content-Type: application/json' \\\n"
            """  -d '{"model": "seedream-4-0-250828", "prompt": "a paper lantern", "size": "2K"}'""",
        ),
        Snippet(
            "openai (official, as Ark documents)",
            "python",
            "from openai import OpenAI\n\n"
            f'client = OpenAI(base_url="{at.base}/api/v3", api_key="{at.key}")\n'
            'reply = client.images.generate(model="seedream-4-0-250828", prompt="a paper lantern", size="2K")\n'
            "print(reply.data[0].url)",
        ),
    ]


SNIPPETS: dict[str, Callable[[Address], list[Snippet]]] = {
    "runware": _runware,
    "wiro": _wiro,
    "evolink": _evolink,
    "replicate": _replicate,
    "ark": _ark,
}


def snippets(surface: str, at: Address, control: str) -> list[Snippet]:
    build = SNIPPETS.get(surface)
    if build is not None:
        return build(at)
    # A surface added without its quickstart here still gets a way in: its routes, bodies and examples.
    return [Snippet("OpenAPI document", "sh", f"curl -s {control}/openapi/{surface}.json")]
