"""Record real traffic into cassettes and replay them (issue 17; docs/drift.md).

`proxy` records (`seedream-emulator record`), `replay` answers from a cassette in front of the emulator
(`seedream-emulator serve --replay`), `cassette` is the format both share. Per-surface knowledge comes only from
`contracts/<surface>/recording.json`, so a new surface is recordable once its contract has that file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.middleware import Middleware

from .cassette import Cassette, CassetteError
from .replay import Replayer, ReplayMiddleware

if TYPE_CHECKING:
    from ..instance import Emulator


def replay_middleware(emulator: Emulator) -> list[Middleware]:
    """The replay layer `--replay CASSETTE` asks for (none without it); it sits inside the journal middleware so
    replayed and unmatched requests are journaled like any other."""
    settings = emulator.settings
    if not settings.replay:
        return []
    from ..settings import SettingsError

    try:
        cassette = Cassette.read(settings.replay)
    except CassetteError as exc:
        raise SettingsError(str(exc)) from None
    replayer = Replayer(cassette, settings.replay)
    emulator.replay = replayer
    prefixes = {surface.name: settings.prefix(surface.name) for surface in emulator.surfaces}
    return [
        Middleware(
            ReplayMiddleware,
            replayer=replayer,
            prefixes=prefixes,
            runtime=emulator.runtime,
            limit=settings.max_body_bytes,
        )
    ]


__all__ = ["Cassette", "CassetteError", "Replayer", "replay_middleware"]
