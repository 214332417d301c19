"""``tl-integrations webhooks``: receive TwelveLabs webhooks and print each verified event.

A :class:`~tl_integrations.WebhookReceiver` served on ``--host:--port`` (uvicorn, from the
``emulator`` extra). Each verified event is one line on stdout (one JSON object per line
with ``--json``); refused requests are counted and summed up at the end, on stderr. The
secret comes from ``--secret`` or ``TWELVELABS_WEBHOOK_SECRET`` and is never printed.

Example:
    >>> from tl_integrations._cli import main
    >>> main(["webhooks", "--port", "8000", "--count", "1"])  # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import contextlib
import threading

import orjson

from .._errors import InvalidRequestError
from .._webhooks import WebhookEvent
from .backend import Settings, UsageError
from .output import Console

__all__ = ["event_line", "run_webhooks"]


def event_line(event: WebhookEvent, *, json_mode: bool) -> str:
    """How one event is printed: a line for a person, or one JSON object.

    Example:
        >>> event = WebhookEvent("e1", "index.task.ready", "2026-10-02T09:15:04Z", {"id": "t1"})
        >>> event_line(event, json_mode=False)
        '2026-10-02T09:15:04Z  index.task.ready  t1  ready'
    """
    if json_mode:
        record = {
            "id": event.id,
            "type": event.type,
            "created_at": event.created_at,
            "job_id": event.job_id,
            "status": event.status,
            "data": dict(event.data),
        }
        return orjson.dumps(record).decode()
    return f"{event.created_at or '-'}  {event.type}  {event.job_id}  {event.status or '-'}"


def run_webhooks(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Serve a receiver until Ctrl-C (or ``--count`` events); print every event.

    Returns:
        0 (a receiver that was stopped is a success).
    """
    from .._receiver import WebhookReceiver

    console.add_secret(args.secret)
    enough = threading.Event()
    seen = 0

    def show(event: WebhookEvent) -> None:
        nonlocal seen
        console.write_raw(event_line(event, json_mode=settings.json) + "\n", to_stdout=True)
        seen += 1
        if args.count is not None and seen >= args.count:
            enough.set()

    try:
        receiver = WebhookReceiver(args.secret, on_event=show)
    except InvalidRequestError as exc:
        raise UsageError(f"{exc} (or pass --secret)") from None
    try:
        server = receiver.serve(host=args.host, port=args.port)
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    with server:
        console.notice(
            f"Receiving TwelveLabs webhooks at {server.url} (register it as the webhook "
            "URL; Ctrl-C stops)"
        )
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a receiver stops
            enough.wait()
    counts = receiver.stats
    console.notice(
        f"{counts['events']} event(s), {counts['duplicates']} duplicate(s) ignored, "
        f"{counts['rejected']} request(s) refused"
    )
    return 0
