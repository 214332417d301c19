"""``Closing``: the ``with`` protocol of objects that hold something until they are let go
(a client's connection pool, a claim, a server's thread).

Each such class writes what letting go means, once, in ``_close_on_exit``; the protocol
itself is written here, once.
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

__all__ = ["Closing"]

_ClosingT = TypeVar("_ClosingT", bound="Closing")


class Closing:
    """Mixin: ``with obj as same:`` gives ``obj`` and lets it go at the end, error or not.

    Example:
        >>> class Pool(Closing):
        ...     open = True
        ...     def _close_on_exit(self): self.open = False
        >>> with Pool() as pool:
        ...     pool.open
        True
        >>> pool.open
        False
    """

    def _close_on_exit(self) -> None:
        """Let go of what the object holds (the subclass says how)."""
        raise NotImplementedError

    def __enter__(self: _ClosingT) -> _ClosingT:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close_on_exit()
