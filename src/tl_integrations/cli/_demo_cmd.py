"""``tl-integrations demo``: the demo, with the CLI's settings and exit codes.

Example:
    >>> from tl_integrations.cli import main
    >>> main(["demo"])  # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import importlib.util

from ._backend import Settings, UsageError
from ._output import Console

__all__ = ["run_demo"]


def run_demo(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Run the demo: offline on the emulator without a key, on the real API with one.

    Returns:
        0 on success; 2 when a real key is set and spending was not confirmed.
    """
    if settings.json:
        raise UsageError("the demo prints for people; it has no --json output")
    if settings.base_url and not settings.api_key:
        raise UsageError("--base-url needs an API key (an emulator accepts any non-empty key)")
    needed = ["langchain_core"] + ([] if settings.api_key else ["av", "starlette", "uvicorn"])
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"the demo needs {', '.join(missing)}: pip install 'tl-integrations[all]'")
    from ..demo._run import run

    return run(
        console,
        api_key=settings.api_key,
        base_url=settings.base_url,
        assume_yes=args.yes,
        speed=settings.emulator_speed,
    )
