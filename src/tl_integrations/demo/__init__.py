"""The tl-integrations demo: three sample videos indexed, described, embedded and searched.

``tl-integrations demo`` (and ``make demo``) runs it. With no ``TWELVELABS_API_KEY`` it runs
offline against the embedded emulator in a few seconds; with a key it uses the real API
and asks before spending credits (``--yes`` skips the question).

Example:
    >>> from tl_integrations.demo import run_demo
    >>> run_demo()  # doctest: +SKIP
    0
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ..cli._output import Console
from ._backend import DEMO_SPEED
from ._media import QUESTIONS, SAMPLES, SampleVideo, make_videos
from ._run import EXIT_REFUSED, run

__all__ = [
    "DEMO_SPEED",
    "EXIT_REFUSED",
    "QUESTIONS",
    "SAMPLES",
    "SampleVideo",
    "make_videos",
    "run_demo",
]


def run_demo(
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    assume_yes: bool = False,
    speed: float | None = None,
    console: Console | None = None,
    ask: Callable[[str], str] = input,
) -> int:
    """Run the demo and return its exit status (0, or 2 when spending was refused).

    Args:
        api_key: the TwelveLabs key; default ``TWELVELABS_API_KEY``; none: the emulator.
        base_url: the API base URL; default ``TWELVELABS_BASE_URL``.
        assume_yes: with a real key, do not ask before spending credits.
        speed: the embedded emulator's speed-up (default :data:`DEMO_SPEED`).
        console: where to print (default: stdout and stderr).
        ask: how to ask the confirmation question (default ``input``).

    Example:
        >>> run_demo(speed=20.0)  # doctest: +SKIP
        0
    """
    key = api_key or os.environ.get("TWELVELABS_API_KEY") or None
    url = base_url or os.environ.get("TWELVELABS_BASE_URL") or None
    out = console or Console(secrets=[key])
    return run(out, api_key=key, base_url=url, assume_yes=assume_yes, speed=speed, ask=ask)
