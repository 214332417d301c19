"""What every notebook needs first: which API to talk to, and a few short sample videos.

With ``TWELVELABS_API_KEY`` set, the notebooks use the real TwelveLabs API (and
``TWELVELABS_BASE_URL`` when that is set too). Without a key, :func:`connect` starts the
embedded emulator in this kernel: a local TwelveLabs-compatible server on a loopback port,
running tasks :data:`SPEED` times faster than real time, so nothing leaves the machine.

The sample videos are the three of ``make demo`` (``tl-integrations demo``): cooking,
football and astronomy, 12 s each, with coloured scenes and one subtitle line every 3 s.

Example:
    >>> backend = connect()  # doctest: +SKIP
    No TWELVELABS_API_KEY: using the embedded TwelveLabs emulator (offline, tasks 5x faster).
    >>> client = backend.client()  # doctest: +SKIP
    >>> videos = make_videos(Path("videos"))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tl_integrations import AsyncTwelveLabs, PollPolicy, TwelveLabs
from tl_integrations._cli.demo import QUESTIONS, SAMPLES, make_videos

if TYPE_CHECKING:
    from tl_integrations.emulator import Emulator

__all__ = ["INDEX_NAME", "QUESTIONS", "SAMPLES", "SPEED", "Backend", "connect", "make_videos"]

# Tasks of a 12 s video take about 4 s on the emulator at speed 1: at 5x a notebook waits
# under a second per step, and a poller still sees the statuses change.
SPEED = 5.0
INDEX_NAME = "tl-integrations-notebooks"


@dataclass
class Backend:
    """Where the notebook's clients point: the real API, or the embedded emulator.

    Attributes:
        api_key: the key to use (the emulator's placeholder when offline); never printed.
        base_url: the API base URL.
        emulator: the running embedded emulator, or None on the real API.
        speed: how much faster than the real API tasks finish (1.0 on the real API).

    Example:
        >>> Backend(api_key="k", base_url="https://api.twelvelabs.io/v1.3").offline
        False
    """

    api_key: str = field(repr=False)
    base_url: str
    emulator: Emulator | None = None
    speed: float = 1.0

    @property
    def offline(self) -> bool:
        """True when the notebook runs on the embedded emulator."""
        return self.emulator is not None

    def _poll_policy(self) -> PollPolicy | None:
        if not self.offline:
            return None  # the client's defaults are tuned for the real API
        # The emulator's tasks are `speed` times shorter: poll that much more often.
        real = PollPolicy()
        return PollPolicy(
            initial_interval_s=real.initial_interval_s / self.speed,
            max_interval_s=real.max_interval_s / self.speed,
            duration_ratio=real.duration_ratio / self.speed,
            max_batch_interval_s=real.max_batch_interval_s / self.speed,
        )

    def client(self) -> TwelveLabs:
        """A new synchronous client (close it, or use it in a ``with`` block)."""
        return TwelveLabs(self.api_key, base_url=self.base_url, poll_policy=self._poll_policy())

    def async_client(self) -> AsyncTwelveLabs:
        """A new asyncio client (``await client.aclose()``, or ``async with``)."""
        return AsyncTwelveLabs(
            self.api_key, base_url=self.base_url, poll_policy=self._poll_policy()
        )

    def close(self) -> None:
        """Stop the embedded emulator (nothing to do on the real API)."""
        if self.emulator is not None:
            self.emulator.stop()


def connect(*, speed: float = SPEED, environ: Mapping[str, str] | None = None) -> Backend:
    """Use the real API when ``TWELVELABS_API_KEY`` is set, else start the emulator.

    Prints one line saying which.

    Example:
        >>> connect(environ={"TWELVELABS_API_KEY": "tlk_x"}).offline
        Using the TwelveLabs API at https://api.twelvelabs.io/v1.3 (uses your credits).
        False
    """
    env = os.environ if environ is None else environ
    key = env.get("TWELVELABS_API_KEY")
    if key:
        base_url = env.get("TWELVELABS_BASE_URL") or "https://api.twelvelabs.io/v1.3"
        print(f"Using the TwelveLabs API at {base_url} (uses your credits).")
        return Backend(api_key=key, base_url=base_url)
    from tl_integrations.emulator import Emulator, EmulatorConfig

    emulator = Emulator(EmulatorConfig(speed=speed)).start()
    print(
        f"No TWELVELABS_API_KEY: using the embedded TwelveLabs emulator "
        f"(offline, tasks {speed:g}x faster)."
    )
    return Backend(emulator.api_key, emulator.base_url, emulator, speed)
