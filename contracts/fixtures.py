"""Reference fixtures: images of any size the emulator serves at `/files/fixture-<W>x<H>-<ext>.<ext>`.

Contracts and harness cases name them before anyone knows where the emulator runs, on a reserved host that the
conformance session rewrites to the emulator's own address (`conformance.fixtures.resolved`).
"""

from __future__ import annotations

PLACEHOLDER = "http://emulator-fixtures.invalid/files/"
EXTENSIONS = ("png", "jpg", "webp")


def fixture_id(width: int, height: int, extension: str = "png") -> str:
    """The artifact id of a fixture; its URL is `/files/<id>.<extension>`."""
    return f"fixture-{width}x{height}-{extension}"


def fixture_url(width: int, height: int, extension: str = "png") -> str:
    """A fixture on the placeholder host, for contract examples and harness cases."""
    return f"{PLACEHOLDER}{fixture_id(width, height, extension)}.{extension}"


def fixture_size(url: str) -> tuple[int, int] | None:
    """The width and height a fixture URL names (on any host), or None for any other URL."""
    name = url.rsplit("/", 1)[-1]
    if not name.startswith("fixture-"):
        return None
    try:
        width, height = name.removeprefix("fixture-").split("-", 1)[0].split("x")
        return int(width), int(height)
    except ValueError:
        return None
