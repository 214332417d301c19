"""``tl-integrations cache``: what the offline mode keeps on disk, and removing it.

Without an API key, commands run on the embedded emulator, which keeps its state (indexes,
videos, and a copy of every uploaded file) in a directory, by default
``~/.cache/tl-integrations/emulator``. ``cache`` shows where and how big; ``cache clear``
removes it. Each command that makes it grow says so once.

Example:
    >>> from tl_integrations._cli import main
    >>> main(["cache"])  # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from .backend import Settings, UsageError, default_data_dir
from .output import PROG, Console
from .report import Report

__all__ = ["disk_usage", "format_bytes", "grown_notice", "run_cache"]

# The file every emulator state directory holds (see the emulator's persistence).
STATE_FILE = "state.json"


def disk_usage(root: Path) -> int:
    """Bytes of the regular files under ``root`` (0 when it does not exist).

    Example:
        >>> disk_usage(Path("/no/such/dir"))
        0
    """
    if not root.is_dir():
        return 0
    total = 0
    for path in root.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            continue  # removed while we looked
    return total


def format_bytes(size: int) -> str:
    """Bytes for a person, in powers of 1000 like ``du -h --si``.

    Example:
        >>> format_bytes(1_234_567)
        '1.2 MB'
    """
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def grown_notice(root: Path, before: int) -> str | None:
    """The one-line notice when a command made the offline state grow, else None.

    Example:
        >>> grown_notice(Path("/no/such/dir"), 0) is None
        True
    """
    after = disk_usage(root)
    if after <= before:
        return None
    return (
        f"Offline mode keeps a copy of uploaded media in {root} (now {format_bytes(after)}); "
        f"remove it with: {PROG} cache clear"
    )


def run_cache(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Show the offline state's place and size, or remove it (``cache clear``).

    Returns:
        0; a usage error (2) when ``clear`` is neither confirmed nor given ``--yes``.
    """
    root = settings.data_dir or default_data_dir()
    report = Report(columns=("path", "size"), headers=("PATH", "SIZE"))
    size = disk_usage(root)
    if args.action == "clear":
        if size and not args.yes:
            if console.json_mode or not _interactive():
                raise UsageError(f"not removed: pass --yes to remove {root}")
            console.notice(f"Remove {root} ({format_bytes(size)}), all offline indexes? [y/N] ")
            if input().strip().lower() not in ("y", "yes"):
                report.fail(str(root), "not removed")
                return report.emit(console)
        _remove(root)
        report.extra["removed_bytes"] = size
        report.add({"path": str(root), "size": "removed"})
        console.notice(f"Removed {format_bytes(size)} from {root}.")
    else:
        report.add({"path": str(root), "size": format_bytes(size), "bytes": size})
    return report.emit(console)


def _remove(root: Path) -> None:
    """Remove the emulator's state directory, and nothing that does not look like one."""
    if not root.exists():
        return
    if root.is_symlink() or not root.is_dir():
        raise UsageError(f"{root} is not a directory; remove it yourself if it is yours")
    if any(root.iterdir()) and not (root / STATE_FILE).is_file():
        raise UsageError(
            f"{root} does not look like the emulator's state (it has no {STATE_FILE}); "
            "not removed: check --data-dir"
        )
    shutil.rmtree(root)


def _interactive() -> bool:
    import sys

    return sys.stdin.isatty()
