"""Terminal output for the command line: readable text, JSON for scripts, live task statuses.

Everything the CLI prints goes through a :class:`Console`, which scrubs secrets (the API key
must never reach a terminal or a log file) and keeps stdout clean for ``--json``: results go
to stdout, notices and errors to stderr.

Example:
    >>> import io
    >>> out, err = io.StringIO(), io.StringIO()
    >>> console = Console(stdout=out, stderr=err, secrets=["tlk_secret"])
    >>> console.error("bad key tlk_secret")
    >>> err.getvalue()
    'tl-integrations: error: bad key ***\\n'
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, TextIO, cast

import orjson

__all__ = ["Console", "StatusBoard", "format_duration", "render_table", "short_id"]

PROG = "tl-integrations"


class Console:
    """Where the CLI writes: stdout for results, stderr for notices and errors.

    Streams are looked up at write time when not given, so pytest's ``capsys`` sees them.

    Example:
        >>> import io
        >>> buf = io.StringIO()
        >>> Console(stdout=buf).print("hello")
        >>> buf.getvalue()
        'hello\\n'
    """

    def __init__(
        self,
        *,
        json_mode: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        secrets: Iterable[str | None] = (),
    ) -> None:
        self.json_mode = json_mode
        self._stdout = stdout
        self._stderr = stderr
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add_secret(secret)

    @property
    def out(self) -> TextIO:
        """The stream for results (stdout unless given)."""
        return self._stdout if self._stdout is not None else sys.stdout

    @property
    def err(self) -> TextIO:
        """The stream for notices, progress and errors (stderr unless given)."""
        return self._stderr if self._stderr is not None else sys.stderr

    def add_secret(self, secret: str | None) -> None:
        """Never print ``secret``: every later write replaces it with ``***``.

        A secret shorter than 8 characters is not searched for: replacing every ``a`` of a
        key ``"a"`` would mangle ids and words. Such a key is never printed in the first
        place (commands print no keys); it is only not searched for in other text.

        Example:
            >>> import io
            >>> console = Console(stdout=io.StringIO(), secrets=["a"])
            >>> console.print("name")
            >>> console.out.getvalue()
            'name\\n'
        """
        from .._client import MIN_SCRUB_KEY_CHARS

        if secret and len(secret) >= MIN_SCRUB_KEY_CHARS:
            self._secrets.add(secret)

    def scrub(self, text: str) -> str:
        """Return ``text`` with every known secret replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def print(self, text: str = "") -> None:
        """Print a result line for a person (nothing in ``--json`` mode)."""
        if not self.json_mode:
            self._write(self.out, text + "\n")

    def notice(self, text: str) -> None:
        """Print a one-line notice to stderr (also in ``--json`` mode)."""
        self._write(self.err, text + "\n")

    def error(self, text: str) -> None:
        """Print a one-line error to stderr, prefixed with the program name."""
        first_line = text.strip().splitlines()[0] if text.strip() else "unknown error"
        self._write(self.err, f"{PROG}: error: {first_line}\n")

    def emit_json(self, value: Any) -> None:
        """Print ``value`` as indented JSON on stdout (the only stdout output in ``--json``)."""
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
        self._write(self.out, text.decode() + "\n")

    def write_raw(self, text: str, *, to_stdout: bool = False) -> None:
        """Write text as is (no newline added), for live progress displays."""
        self._write(self.out if to_stdout else self.err, text)

    def _write(self, stream: TextIO, text: str) -> None:
        text = self.scrub(text)
        try:
            stream.write(text)
        except UnicodeEncodeError:  # a terminal that cannot show "→" or "■" still gets the rest
            encoding = getattr(stream, "encoding", None) or "ascii"
            stream.write(text.encode(encoding, "replace").decode(encoding))
        stream.flush()


def short_id(value: str | None, *, width: int = 12) -> str:
    """Shorten an id for display, keeping its start; ``-`` for none.

    Example:
        >>> short_id("6650a1b2c3d4e5f601234567")
        '6650a1b2c3d…'
    """
    if not value:
        return "-"
    return value if len(value) <= width else value[: width - 1] + "…"


def format_duration(seconds: float) -> str:
    """Format seconds for a person: ``0.4 s``, ``12.3 s``, ``2 min 05 s``.

    Example:
        >>> format_duration(125.2)
        '2 min 05 s'
    """
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def render_table(
    rows: Sequence[Sequence[str]], *, headers: Sequence[str] | None = None, indent: int = 2
) -> list[str]:
    """Align ``rows`` into columns (the last column is not padded).

    Example:
        >>> render_table([["a", "1"], ["bbb", "22"]], headers=["name", "n"])
        ['  name  n', '  a     1', '  bbb   22']
    """
    table = [list(headers)] if headers else []
    table += [list(row) for row in rows]
    if not table:
        return []
    widths = [max(len(row[i]) for row in table if i < len(row)) for i in range(len(table[0]))]
    lines = []
    for row in table:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append(" " * indent + "  ".join(cells).rstrip())
    return lines


INDEXING_STAGES = ("validating", "pending", "queued", "indexing", "ready")
ENDS = ("ready", "failed", "timed out")
_MAX_ROWS = 20


@dataclass
class _Row:
    label: str
    started_s: float
    history: list[str] = field(default_factory=list)
    activity: str = ""
    detail: str = ""
    ended_s: float | None = None

    @property
    def state(self) -> str:
        if self.ended_s is not None:
            return self.history[-1]
        return self.activity or (self.history[-1] if self.history else "waiting")


class StatusBoard:
    """Live progress of many inputs: what each one is doing, how many are where, bytes sent.

    On a terminal it is a `rich <https://rich.readthedocs.io>`_ display that refreshes on
    its own (so the clock moves even while nothing changes): an overall bar with the count
    of inputs in each state, a byte bar while files upload, and (for up to 20 inputs) a
    line per running input. Each input prints one line when it ends, listing the stages it
    went through; elsewhere (pipes, logs, tests) those lines are all that is printed. A
    status that is not a stage (``"uploading"``, ``"reading"``...) is what the input is
    doing meanwhile: shown live, left out of the finished line. ``"ready"``, ``"failed"``
    and ``"timed out"`` end an input.

    Example:
        >>> import io
        >>> console = Console(stderr=io.StringIO())
        >>> board = StatusBoard(["a.mp4"], console=console, live=False, clock=lambda: 0.0)
        >>> board.update("a.mp4", "pending")
        >>> board.update("a.mp4", "ready", detail="video 123")
        >>> board.close()
        >>> print(console.err.getvalue().rstrip())
          a.mp4  pending → ready  0.0 s  video 123
    """

    def __init__(
        self,
        labels: Sequence[str],
        *,
        console: Console,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        stages: Sequence[str] = INDEXING_STAGES,
        to_stdout: bool = False,
        indent: int = 2,
        noun: str = "videos",
    ) -> None:
        self._console = console
        self._to_stdout = to_stdout
        self._indent = " " * indent
        self._noun = noun
        stream = console.out if to_stdout else console.err
        self._clock = clock
        self._started_s = clock()
        self._stages = tuple(stages)
        self._rows = {label: _Row(label, self._started_s) for label in labels}
        self._width = max((len(label) for label in labels), default=0)
        self._unicode = _supports_unicode(stream)
        self._lock = threading.RLock()
        self._bytes: dict[str, tuple[int, int]] = {}
        self._live: Any = None
        if _is_live(stream) if live is None else live:
            self._start(stream)

    def _start(self, stream: TextIO) -> None:
        from rich.console import Console as RichConsole
        from rich.live import Live

        scrubbed = cast("IO[str]", _Scrubbed(stream, self._console.scrub))
        rich_console = RichConsole(file=scrubbed, force_terminal=True, highlight=False)
        self._live = Live(
            get_renderable=self._frame,
            console=rich_console,
            refresh_per_second=4,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()

    def update(self, label: str, status: str, *, detail: str = "") -> None:
        """Record ``status`` for ``label``; an end status stops its clock (thread-safe)."""
        with self._lock:
            self._update(label, status, detail)

    def sent(self, label: str, done: int, total: int) -> None:
        """Record that ``done`` of ``total`` bytes of ``label`` have been uploaded."""
        with self._lock:
            self._bytes[label] = (done, total)

    def _update(self, label: str, status: str, detail: str) -> None:
        row = self._rows.setdefault(label, _Row(label, self._clock()))
        if row.ended_s is not None and status not in ENDS:
            return  # a late report of an earlier status; the input is already done
        if status not in self._stages and status not in ENDS:
            row.activity = status
            return
        row.activity = ""
        if not row.history or row.history[-1] != status:
            row.history.append(status)
        row.detail = detail or row.detail
        if status in ENDS and row.ended_s is None:
            row.ended_s = self._clock()
            line = self._render(row)
            if self._live is not None:
                self._live.console.print(line, markup=False, highlight=False)
            else:
                self._console.write_raw(line + "\n", to_stdout=self._to_stdout)

    def _frame(self) -> Any:
        """The live display as it is now (rich calls this on every refresh)."""
        from rich.filesize import decimal
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        with self._lock:
            rows = list(self._rows.values())
            counts: dict[str, int] = {}
            for row in rows:
                counts[row.state] = counts.get(row.state, 0) + 1
            ended = sum(1 for row in rows if row.ended_s is not None)
            sent = sum(done for done, _ in self._bytes.values())
            size = sum(total for _, total in self._bytes.values())
        grid = Table.grid(padding=(0, 2))
        elapsed = format_duration(self._clock() - self._started_s)
        states = " · ".join(f"{n} {state}" for state, n in counts.items())
        bar = ProgressBar(total=max(len(rows), 1), completed=ended, width=30)
        grid.add_row(f"{self._indent}{self._noun}", bar, f"{ended}/{len(rows)}", states, elapsed)
        if size and sent < size:
            upload = ProgressBar(total=size, completed=sent, width=30)
            grid.add_row(f"{self._indent}upload", upload, f"{decimal(sent)}/{decimal(size)}")
        running = [row for row in rows if row.ended_s is None]
        for row in running[:_MAX_ROWS]:
            grid.add_row(f"{self._indent}{row.label:<{self._width}}  {row.state}")
        if len(running) > _MAX_ROWS:
            grid.add_row(f"{self._indent}… and {len(running) - _MAX_ROWS} more")
        return grid

    def close(self) -> None:
        """End the live display (its last frame stays on screen)."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _render(self, row: _Row) -> str:
        elapsed = (row.ended_s if row.ended_s is not None else self._clock()) - row.started_s
        middle = (" → " if self._unicode else " -> ").join(row.history)
        label = f"{self._indent}{row.label:<{self._width}}"
        parts = [label, middle, format_duration(elapsed), row.detail]
        return "  ".join(p for p in parts if p).rstrip()


class _Scrubbed:
    """A stream that scrubs secrets from what rich writes to it."""

    def __init__(self, stream: TextIO, scrub: Callable[[str], str]) -> None:
        self._stream = stream
        self._scrub = scrub

    def write(self, text: str) -> int:
        return self._stream.write(self._scrub(text))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return bool(getattr(self._stream, "isatty", lambda: False)())

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"


def _is_live(stream: TextIO) -> bool:
    import os

    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM", "") != "dumb"


def _supports_unicode(stream: TextIO) -> bool:
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    return encoding in ("utf8", "utf16", "utf32") or not encoding
