"""How the demo prints: numbered steps, indented blocks, quoted text cut to the terminal.

Example:
    >>> import io
    >>> from tl_integrations.cli._output import Console
    >>> buf = io.StringIO()
    >>> show = Show(Console(stdout=buf), width=48)
    >>> show.step("Index")
    >>> show.quote("A long sentence that will certainly not fit on a single short line.")
    >>> print(buf.getvalue().rstrip())
    <BLANKLINE>
    1. Index
          "A long sentence that will certainly not
           fit on a single short line."
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Sequence

from ..cli._output import Console, format_duration, render_table

__all__ = ["Show", "time_range"]

INDENT = "   "


def time_range(start_s: float | None, end_s: float | None) -> str:
    """``"6.0-12.0 s"`` (with an en dash), or ``""`` for a whole-video text.

    Example:
        >>> time_range(6, 12)
        '6.0–12.0 s'
    """
    if start_s is None or end_s is None:
        return ""
    return f"{start_s:.1f}–{end_s:.1f} s"


class Show:
    """The demo's printer: steps, lines, tables and quotes, all on stdout.

    Example:
        >>> import io
        >>> buf = io.StringIO()
        >>> Show(Console(stdout=buf)).line("hello")
        >>> buf.getvalue()
        '   hello\\n'
    """

    def __init__(
        self,
        console: Console,
        *,
        width: int = 88,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.console = console
        self.width = width
        self._clock = clock
        self._steps = 0
        self._step_started = clock()

    def title(self, text: str) -> None:
        """The demo's first line."""
        self.console.print(text)

    def step(self, title: str) -> None:
        """Start a numbered step (its duration is printed by :meth:`done`)."""
        self._steps += 1
        self._step_started = self._clock()
        self.console.print()
        self.console.print(f"{self._steps}. {title}")

    def done(self, text: str) -> float:
        """Close the step with a result line and its duration; return the duration."""
        elapsed = self._clock() - self._step_started
        self.line(f"→ {text} ({format_duration(elapsed)})")
        return elapsed

    def line(self, text: str = "", *, level: int = 1) -> None:
        """One indented line."""
        self.console.print((INDENT * level + text).rstrip())

    def wrapped(self, text: str, *, level: int = 1) -> None:
        """Plain text wrapped to the width, indented."""
        indent = INDENT * level
        for line in textwrap.wrap(
            text, width=self.width, initial_indent=indent, subsequent_indent=indent + "  "
        ):
            self.console.print(line)

    def table(self, rows: Sequence[Sequence[str]], *, level: int = 1) -> None:
        """Aligned columns, indented."""
        for line in render_table(rows, indent=len(INDENT) * level):
            self.console.print(line)

    def labelled(self, label: str, text: str, *, width: int = 23, max_lines: int = 2) -> None:
        """A label column, then quoted text wrapped under itself (a hanging indent)."""
        indent = INDENT + " " * width
        body = " ".join(text.split())
        lines = textwrap.wrap(
            f'"{body}"',
            width=self.width,
            initial_indent=INDENT + label.ljust(width),
            subsequent_indent=indent + " ",
            max_lines=max_lines,
            placeholder=" …",
        )
        for line in lines:
            self.console.print(line)

    def quote(self, text: str, *, level: int = 2, max_lines: int = 2) -> None:
        """Quoted text, wrapped to the width and cut after ``max_lines`` lines."""
        indent = INDENT * level
        body = " ".join(text.split())
        lines = textwrap.wrap(
            f'"{body}"',
            width=self.width,
            initial_indent=indent,
            subsequent_indent=indent + " ",
            max_lines=max_lines,
            placeholder=" …",
        )
        for line in lines:
            self.console.print(line)
