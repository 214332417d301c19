"""The ``tl-integrations`` command line: index, wait, list, delete, embed, search, webhooks,
cache, emulator and demo.

``main(argv)`` parses, runs one command and returns the exit status: 0 success, 1 some
inputs failed (each named on its own line), 2 usage error. Errors are one line on stderr;
``--debug`` adds the traceback. The API key is never printed.

Example:
    >>> main(["--version"])  # doctest: +ELLIPSIS
    tl-integrations ...
    0
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence

from .._errors import (
    APIConnectionError,
    AuthenticationError,
    PermissionDeniedError,
    TwelveLabsError,
)
from .backend import Settings, UsageError
from .output import Console
from .parser import build_parser, command_parser

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

Command = Callable[[argparse.Namespace, Settings, Console], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tl-integrations`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Args:
        argv: the arguments after the program name.

    Returns:
        0 on success, 1 when some inputs failed, 2 on a usage error, 130 on Ctrl-C.

    Example:
        >>> main(["search"])  # doctest: +SKIP
        2
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(args_list)
        if args.command == "emulator":
            return _run_emulator(extra)
        if extra:
            command_parser(parser, args.command).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:
        return _exit_code(exc)
    settings = Settings.from_args(args)
    console = Console(json_mode=settings.json, secrets=[settings.api_key])
    with _logging(debug=settings.debug, console=console):
        return _run(_command(args.command), args, settings, console)


def _run(command: Command, args: argparse.Namespace, settings: Settings, console: Console) -> int:
    try:
        return command(args, settings, console)
    except KeyboardInterrupt:
        console.error("interrupted")
        return EXIT_INTERRUPTED
    except UsageError as exc:
        console.error(str(exc))
        return EXIT_USAGE
    except Exception as exc:
        if settings.debug:
            console.write_raw(traceback.format_exc())
        message = describe_error(exc, debug=settings.debug)
        console.error(message)
        _emit_error_json(console, message, getattr(exc, "code", None))
        return EXIT_FAILED


def _emit_error_json(console: Console, message: str, code: object) -> None:
    """In ``--json`` mode a script reads stdout: it gets the error there too, with its code."""
    if console.json_mode:
        console.emit_json({"ok": False, "error": message, "code": code})


def describe_error(exc: BaseException, *, debug: bool = False) -> str:
    """One line that says what failed and, when we know it, what to do.

    Example:
        >>> describe_error(ValueError("bad"))
        'unexpected ValueError: bad (run with --debug for details)'
    """
    if isinstance(exc, AuthenticationError):
        return f"the API key was rejected: {exc}; check TWELVELABS_API_KEY or --api-key"
    if isinstance(exc, PermissionDeniedError):
        return f"permission denied: {exc}"
    if isinstance(exc, APIConnectionError):
        return f"cannot reach the API: {exc}; check --base-url and your network"
    if isinstance(exc, (TwelveLabsError, OSError)):
        return str(exc) or type(exc).__name__
    hint = "" if debug else " (run with --debug for details)"
    return f"unexpected {type(exc).__name__}: {exc}{hint}"


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return EXIT_OK
    return exc.code if isinstance(exc.code, int) else EXIT_USAGE


def _run_emulator(extra: list[str]) -> int:
    try:
        from ..emulator import main as emulator_main
    except ImportError as exc:
        from .._extras import install_hint

        sys.stderr.write(
            f"tl-integrations: error: the emulator needs its extra ({exc.name} is missing): "
            f"{install_hint('emulator')}\n"
        )
        return EXIT_FAILED
    try:
        code = emulator_main(extra)
    except SystemExit as exc:  # its own --help and usage errors
        return _exit_code(exc)
    return int(code or 0)


@contextlib.contextmanager
def _logging(*, debug: bool, console: Console) -> Iterator[None]:
    """Send the library's log records to stderr (scrubbed) while one command runs."""
    logger = logging.getLogger("tl_integrations")
    handler = _ScrubbingHandler(console)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.ERROR)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


class _ScrubbingHandler(logging.Handler):
    def __init__(self, console: Console) -> None:
        super().__init__()
        self._console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._console.write_raw(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


_COMMANDS = {
    "index": ("index", "run_index"),
    "wait": ("index", "run_wait"),
    "list": ("manage", "run_list"),
    "delete": ("manage", "run_delete"),
    "cache": ("cache", "run_cache"),
    "embed": ("vectors", "run_embed"),
    "search": ("vectors", "run_search"),
    "webhooks": ("webhooks", "run_webhooks"),
    "demo": ("demo", "command"),
}


def _command(name: str) -> Command:
    # Imported per command so that `--help` and `--version` load nothing heavy.
    module_name, function = _COMMANDS[name]
    module = importlib.import_module(f"{__name__}.{module_name}")
    run: Command = getattr(module, function)
    return run
