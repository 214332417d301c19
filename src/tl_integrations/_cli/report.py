"""What a command did, per input: rows that succeeded and inputs that failed.

A :class:`Report` prints a table (or JSON) of the successes, one line per failed input on
stderr, and gives the exit status: 0 when nothing failed, 1 otherwise.

Example:
    >>> import io
    >>> console = Console(stdout=io.StringIO(), stderr=io.StringIO())
    >>> report = Report(columns=("input", "video_id"))
    >>> report.add({"input": "a.mp4", "video_id": "v1"})
    >>> report.fail("b.mp4", "no such file")
    >>> report.emit(console)
    1
    >>> console.err.getvalue()
    'tl-integrations: failed: b.mp4: no such file\\n'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .output import PROG, Console, render_table

__all__ = ["Report"]


@dataclass
class Report:
    """Rows for the inputs that worked and a reason for each input that did not.

    Attributes:
        columns: keys of each row, shown as table columns in this order.
        rows: one mapping per successful input (all values go into ``--json``).
        failures: one mapping per failed input: ``input``, ``status`` (``failed`` or
            ``timed out``), ``error`` (one line), ``code`` (the API's error code, or None)
            and ``fields``: ids that let a later command pick it up (``task_id``...).
        extra: more top-level keys for ``--json`` (index id, query...).

    Example:
        >>> r = Report(columns=("task_id",)); r.add({"task_id": "t1"}); r.exit_code
        0
    """

    columns: Sequence[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    headers: Sequence[str] | None = None

    def add(self, row: Mapping[str, Any]) -> None:
        """Record one successful input."""
        self.rows.append(dict(row))

    def fail(
        self,
        name: str,
        reason: str | BaseException,
        *,
        status: str = "failed",
        fields: Mapping[str, str | None] | None = None,
    ) -> None:
        """Record one failed input: why (one line; an exception's API ``code`` is kept too).

        Example:
            >>> from tl_integrations import NotFoundError
            >>> r = Report(columns=())
            >>> r.fail("t1", NotFoundError("no such task", status_code=404, code="not_found"))
            >>> r.failures[0]["code"]
            'not_found'
        """
        text = str(reason).strip()
        line = text.splitlines()[0] if text else "failed"
        code = getattr(reason, "code", None) if isinstance(reason, BaseException) else None
        entry = {"input": name, "status": status, "error": line, "code": code}
        entry.update({k: v for k, v in (fields or {}).items() if v is not None})
        self.failures.append(entry)

    @property
    def exit_code(self) -> int:
        """0 when nothing failed, else 1."""
        return 1 if self.failures else 0

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready mapping.

        Example:
            >>> Report(columns=()).to_json()
            {'ok': True, 'results': [], 'failed': []}
        """
        failed = [dict(entry) for entry in self.failures]
        return {"ok": not self.failures, **self.extra, "results": self.rows, "failed": failed}

    def emit(self, console: Console) -> int:
        """Print the table (or JSON) and the failures; return the exit status."""
        if console.json_mode:
            console.emit_json(self.to_json())
        elif self.rows:
            headers = self.headers or [c.upper().replace("_", " ") for c in self.columns]
            cells = [[_cell(row.get(c)) for c in self.columns] for row in self.rows]
            for line in render_table(cells, headers=headers):
                console.print(line)
        for entry in self.failures:
            console.notice(f"{PROG}: {entry['status']}: {entry['input']}: {entry['error']}")
        return self.exit_code


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
