"""``tl-integrations emulator`` (also ``python -m tl_integrations.emulator``): serve the
emulator in the foreground until Ctrl-C.

Errors are one line on stderr; the exit status is that of the other commands: 0 when
stopped (Ctrl-C or SIGTERM), 1 when it cannot start (a port in use, an unusable data
directory), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType

import uvicorn

from .._serving import bind_socket
from ._app import create_app
from ._backend.persistence import DataDirError
from ._config import EmulatorConfig, Faults
from ._gate import API_PREFIX
from ._server import exposure, uvicorn_config

__all__ = ["build_parser", "config_from_args", "main"]

PROG = "tl-integrations emulator"
EXIT_OK, EXIT_FAILED = 0, 1
_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")

_EPILOG = """\
doors:
  Only loopback Host names are served (--allow-host adds others), control requests
  (/_emulator/...) need the key when one is set and take JSON only, and file:// media
  URLs are refused unless --allow-file-dir names their directory. Serving beyond
  loopback (--host 0.0.0.0) needs --api-key.

examples:
  tl-integrations emulator --port 8765 --speed 10
  tl-integrations emulator --data-dir ~/emulator --api-key local-key
  tl-integrations emulator --allow-file-dir ~/videos --faults "500=0.1,drop=0.02"
  TWELVELABS_BASE_URL=http://127.0.0.1:8765/v1.3 TWELVELABS_API_KEY=any tl-integrations ...

exit status: 0 stopped (Ctrl-C), 1 could not start (each cause named), 2 usage error.
"""


def build_parser() -> argparse.ArgumentParser:
    """The command-line options.

    Example:
        >>> build_parser().parse_args(["--port", "9000"]).port
        9000
    """
    p = argparse.ArgumentParser(
        prog=PROG,
        usage="%(prog)s [--port N] [--data-dir DIR] [--api-key KEY] [options]",
        description="Serve a local TwelveLabs-compatible API (v1.3) for tests and demos.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    p.add_argument(
        "--port", type=_port, default=8765, metavar="N", help="port (default: 8765; 0: any free)"
    )
    p.add_argument(
        "--api-key", metavar="KEY", help="the only x-api-key accepted (default: any non-empty)"
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="keep state and media here across restarts (default: a temporary directory)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="serve this Host name too, repeatable; '*' serves any (default: loopback only)",
    )
    p.add_argument(
        "--allow-file-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="let file:// media URLs read files in DIR, repeatable (default: none)",
    )
    p.add_argument(
        "--speed", type=float, default=1.0, metavar="X", help="processing speed-up (default: 1)"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="make ids, timing, failures and faults reproducible (ids become guessable; "
        "default: random)",
    )
    p.add_argument(
        "--faults",
        default="",
        metavar="SPEC",
        help='fault probabilities, e.g. "500=0.1,503=0.05,429=0.05,drop=0.01,lost=0.01,'
        'latency=0.05,fail=0.1" (latency_s=SECONDS sets the added latency); for webhook '
        "deliveries webhook_drop, webhook_duplicate, webhook_delay (webhook_delay_s=SECONDS) "
        "and webhook_reorder",
    )
    p.add_argument(
        "--failure-rate", type=float, default=0.0, metavar="P", help="share of tasks that fail"
    )
    p.add_argument(
        "--media-validation",
        choices=("sync", "async"),
        default="sync",
        help="refuse bad media on create (sync, default) or fail the task later (async)",
    )
    p.add_argument(
        "--log-level",
        choices=_LOG_LEVELS,
        default="warning",
        metavar="LEVEL",
        help=f"server log level: {', '.join(_LOG_LEVELS)} (default: warning)",
    )
    p.add_argument(
        "--index-models",
        default="marengo3.0",
        metavar="MODELS",
        help="models POST /indexes accepts, comma-separated (default marengo3.0, as today; "
        "add marengo2.7 or pegasus1.2 to make indexes like older accounts have)",
    )
    p.add_argument(
        "--webhook-url",
        default=None,
        metavar="URL",
        help="POST signed webhook events (index.task.*, analyze.task.*) to this URL",
    )
    p.add_argument(
        "--webhook-secret",
        default=None,
        metavar="SECRET",
        help="the secret events are signed with (default: $TWELVELABS_WEBHOOK_SECRET)",
    )
    return p


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """An :class:`EmulatorConfig` from parsed options.

    Raises:
        ValueError: For a bad fault spec, speed or failure rate.

    Example:
        >>> config_from_args(build_parser().parse_args(["--speed", "10"])).speed
        10.0
        >>> args = build_parser().parse_args(["--index-models", "marengo3.0,pegasus1.2"])
        >>> config_from_args(args).index_models
        ('marengo3.0', 'pegasus1.2')
    """
    config = EmulatorConfig(
        speed=args.speed,
        api_key=args.api_key,
        data_dir=Path(args.data_dir).expanduser() if args.data_dir else None,
        faults=Faults.parse(args.faults),
        failure_rate=args.failure_rate,
        media_validation=args.media_validation,
        allowed_hosts=tuple(args.allow_host),
        file_dirs=tuple(Path(d).expanduser() for d in args.allow_file_dir),
        index_models=tuple(m.strip() for m in args.index_models.split(",") if m.strip()),
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret or os.environ.get("TWELVELABS_WEBHOOK_SECRET"),
    )
    return config if args.seed is None else config.with_overrides(seed=args.seed)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until interrupted; returns the exit code (0, 1, or 2 for usage).

    Example:
        >>> main(["--port", "8765", "--speed", "10"])  # doctest: +SKIP
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config, warning = exposure(config_from_args(args), args.host)
    except ValueError as exc:
        parser.error(str(exc))
    # Ctrl-C (or SIGTERM) is how this command ends, whenever it comes: no traceback.
    with contextlib.suppress(KeyboardInterrupt, _Stop), _stop_on(signal.SIGTERM):
        code = _serve(args, config, warning)
        if code != EXIT_OK:
            return code
    print("TwelveLabs emulator: stopped", file=sys.stderr, flush=True)
    return EXIT_OK


def _serve(args: argparse.Namespace, config: EmulatorConfig, warning: str | None) -> int:
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        return _fail(_bind_error(args.host, args.port, exc))
    try:
        app = create_app(config)
    except DataDirError as exc:
        sock.close()
        return _fail(str(exc))
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{sock.getsockname()[1]}"
    app.emulator.backend.store.persistence.announce({"url": url})
    if warning:
        print(warning, file=sys.stderr, flush=True)
    if config.webhook_url:
        print(f"TwelveLabs emulator: webhooks to {config.webhook_url}", flush=True)
    server = _Server(uvicorn_config(app, log_level=args.log_level), url=url)
    try:
        server.run(sockets=[sock])
    finally:
        app.emulator.close()  # the lifespan did already, unless the server never started
    if not server.started:
        return _fail("the server stopped while starting; run with --log-level debug for why")
    return EXIT_OK


class _Server(uvicorn.Server):
    """Says where it serves once it does (not before: a client told earlier would find no
    one there)."""

    def __init__(self, config: uvicorn.Config, *, url: str) -> None:
        super().__init__(config)
        self.url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(f"TwelveLabs emulator: base_url {self.url}{API_PREFIX}", flush=True)


class _Stop(Exception):
    """SIGTERM, raised where uvicorn passes the signal on after its graceful shutdown."""


@contextlib.contextmanager
def _stop_on(signum: int) -> Iterator[None]:
    # uvicorn handles the signal while serving, then raises it again once shut down; this
    # handler turns that into a clean return instead of a death by signal.
    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise _Stop

    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only
        return
    previous: Callable[..., object] | int | None = signal.signal(signum, stop)
    try:
        yield
    finally:
        signal.signal(signum, previous)


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    return EXIT_FAILED


def _bind_error(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is in use; stop what uses it, or pick another --port"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot serve on {host!r} ({exc.strerror or exc}); give an address of this machine"
    return f"cannot serve on {host}:{port}: {exc.strerror or exc}"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535, got {text}")
    return value
