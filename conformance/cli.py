"""`seedream-conformance`: the conformance harness command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="seedream-conformance",
        description=(
            "Drive a Seedream client library against the emulator and report whether it sends valid "
            "requests, reads every response shape, follows the lifecycle and survives faults. "
            "The harness commands arrive with the conformance milestone; this release ships the emulator."
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser().print_help()
    return 0
