from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import EmulatorFactory
from tests.emulator.providers.wiro.wiro_support import DEV_KEY, DEV_SECRET, WiroClient


@pytest.fixture
def make_wiro(make_emulator: EmulatorFactory) -> Callable[..., Any]:
    async def factory(
        clock: Any = None, key: str = DEV_KEY, secret: str | None = DEV_SECRET, **settings: Any
    ) -> WiroClient:
        return WiroClient(await make_emulator(clock=clock, **settings), key, secret)

    return factory


@pytest.fixture
async def wiro(make_wiro: Callable[..., Any]) -> WiroClient:
    return await make_wiro()
