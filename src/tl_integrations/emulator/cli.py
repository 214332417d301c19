"""``python -m tl_integrations.emulator``: serve the emulator in the foreground."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

import uvicorn

from .app import create_app
from .config import EmulatorConfig, Faults
from .gate import API_PREFIX
from .server import bind_socket

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The command-line options.

    Example:
        >>> build_parser().parse_args(["--port", "9000"]).port
        9000
    """
    p = argparse.ArgumentParser(
        prog="tl-integrations emulator",
        description="Serve a local TwelveLabs-compatible API (v1.3) for tests and demos.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free port)")
    p.add_argument("--api-key", default=None, help="the only accepted x-api-key (default: any)")
    p.add_argument("--data-dir", default=None, help="persist state and media here across restarts")
    p.add_argument("--speed", type=float, default=1.0, help="processing speed-up (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed for ids, timing, failures and faults")
    p.add_argument(
        "--faults",
        default="",
        help='fault probabilities, e.g. "500=0.1,503=0.05,429=0.05,drop=0.01,lost=0.01,'
        'latency=0.05,fail=0.1" (latency_s=SECONDS sets the added latency); for webhook '
        "deliveries webhook_drop, webhook_duplicate, webhook_delay (webhook_delay_s=SECONDS) "
        "and webhook_reorder",
    )
    p.add_argument("--failure-rate", type=float, default=0.0, help="share of tasks that fail")
    p.add_argument(
        "--media-validation",
        choices=("sync", "async"),
        default="sync",
        help="reject bad media on create (sync, default) or fail the task later (async)",
    )
    p.add_argument(
        "--index-models",
        default="marengo3.0",
        help="models POST /indexes accepts, comma-separated (default marengo3.0, as today; "
        "add marengo2.7 or pegasus1.2 to make indexes like older accounts have)",
    )
    p.add_argument(
        "--webhook-url",
        default=None,
        help="POST signed webhook events (index.task.*, analyze.task.*) to this URL",
    )
    p.add_argument(
        "--webhook-secret",
        default=None,
        help="the secret events are signed with (default: $TWELVELABS_WEBHOOK_SECRET)",
    )
    p.add_argument("--log-level", default="info", help="uvicorn log level (default info)")
    return p


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """An :class:`EmulatorConfig` from parsed options.

    Example:
        >>> config_from_args(build_parser().parse_args(["--speed", "10"])).speed
        10.0
        >>> args = build_parser().parse_args(["--index-models", "marengo3.0,pegasus1.2"])
        >>> config_from_args(args).index_models
        ('marengo3.0', 'pegasus1.2')
    """
    return EmulatorConfig(
        speed=args.speed,
        seed=args.seed,
        api_key=args.api_key,
        data_dir=args.data_dir,
        faults=Faults.parse(args.faults),
        failure_rate=args.failure_rate,
        media_validation=args.media_validation,
        index_models=tuple(m.strip() for m in args.index_models.split(",") if m.strip()),
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret or os.environ.get("TWELVELABS_WEBHOOK_SECRET"),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until interrupted; returns the exit code.

    Example:
        >>> main(["--port", "8765", "--speed", "10"])  # doctest: +SKIP
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    sock = bind_socket(args.host, args.port)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"TwelveLabs emulator: base_url http://{host}:{port}{API_PREFIX}", flush=True)
    if config.webhook_url:
        print(f"TwelveLabs emulator: webhooks to {config.webhook_url}", flush=True)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            log_level=args.log_level,
            http="h11",
            lifespan="on",
            date_header=False,  # the gate sends the emulator's own Date
        )
    )
    server.run(sockets=[sock])
    return 0
