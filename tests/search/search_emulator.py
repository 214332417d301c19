"""Helpers of the search tests that run on the emulator (fixtures in conftest.py).

A uniquely named module, so that tests can import it (every test folder has a conftest).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from tl_integrations import AsyncTwelveLabs, TwelveLabs
from tl_integrations.emulator import Emulator

# --- the emulator --------------------------------------------------------------------------

KITCHEN = [
    (0.5, 3.0, "Welcome to the kitchen"),
    (3.5, 6.0, "today we bake sourdough bread"),
    (7.0, 9.5, "first mix flour and water"),
    (10.0, 12.5, "then knead the dough for ten minutes"),
    (13.5, 16.0, "the oven must be very hot"),
]
GARDEN = [
    (0.5, 3.0, "tomatoes need full sun"),
    (4.0, 7.0, "water the roses at dawn"),
    (8.0, 11.0, "compost feeds hungry soil"),
]


@dataclass(frozen=True)
class Indexed:
    """An emulator index holding two subtitled videos (ready), and the emulator."""

    emulator: Emulator
    index_id: str
    index_name: str
    kitchen: str  # video ids
    garden: str
    media: Path  # the folder holding kitchen.mp4 and garden.mp4


def emulator_client(emu: Emulator) -> TwelveLabs:
    """A client whose sleeps move the emulator's clock."""
    assert emu.clock is not None
    return TwelveLabs(
        api_key=emu.api_key, base_url=emu.base_url, clock=emu.clock, sleep=emu.advance
    )


def emulator_async_client(emu: Emulator) -> AsyncTwelveLabs:
    assert emu.clock is not None

    async def sleep(seconds: float) -> None:
        emu.advance(seconds)
        await asyncio.sleep(0)

    return AsyncTwelveLabs(api_key=emu.api_key, base_url=emu.base_url, clock=emu.clock, sleep=sleep)
