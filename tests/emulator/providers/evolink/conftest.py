from __future__ import annotations

import pytest

from emulator.core.clock import ManualClock
from tests.conftest import Emulator, EmulatorFactory


@pytest.fixture
async def clocked(make_emulator: EmulatorFactory, clock: ManualClock) -> Emulator:
    """An emulator whose jobs take realistic time on a manual clock."""
    return await make_emulator(clock=clock, timing="realistic")


@pytest.fixture
async def strict(make_emulator: EmulatorFactory) -> Emulator:
    return await make_emulator(strict=True)
