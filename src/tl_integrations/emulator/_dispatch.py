"""The emulator's outbound side: POST each webhook event, signed, when it falls due.

:class:`WebhookDispatcher` runs one background thread that watches the emulator's clock and
hands every due event (see ``backend/webhooks.py``) to a small pool of senders, so a slow
or unreachable receiver never holds up the others, and never an API request: requests only
publish events. The clock may be the wall clock, a fast virtual one (a benchmark's), or a
:class:`~tl_integrations.emulator.ManualClock`: the thread measures how fast it runs
against the wall clock and sleeps until the next event's moment (looking again at least
every :data:`MAX_WAIT_S`, and every :data:`IDLE_WAIT_S` while the clock stands still), and
:meth:`WebhookDispatcher.flush` sends what is due at once (``Emulator.advance`` calls it, so
a test that advances the clock sees the deliveries done when it returns).

Each POST carries ``TL-Signature: t=<emulator unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`` and the event as its JSON body, as the API sends them.

Example:
    >>> from ._config import EmulatorConfig
    >>> from ._backend import Backend
    >>> backend = Backend(EmulatorConfig())
    >>> WebhookDispatcher(backend.webhooks, clock=lambda: 0.0).flush()
    0
    >>> backend.close()
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all

import httpx

from ._backend.webhooks import Delivery, Webhooks

__all__ = ["SIGNATURE_HEADER", "WebhookDispatcher", "pause_s", "signature"]

SIGNATURE_HEADER = "TL-Signature"
SENDERS = 4
"""Deliveries in flight at once."""
TIMEOUT_S = 10.0
"""A receiver that has not answered within this many (wall) seconds has failed."""
MAX_WAIT_S = 0.25
"""The longest the thread sleeps (wall seconds) before looking at the clock again: a clock
may change speed, or be set back, under it."""
IDLE_WAIT_S = 0.05
"""How often it looks while the clock stands still (a manual clock between advances)."""


def signature(body: bytes, secret: str, *, timestamp: int) -> str:
    """The ``TL-Signature`` value of ``body`` sent at ``timestamp`` (unix seconds).

    Example:
        >>> signature(b"{}", "s", timestamp=1).split(",")[0]
        't=1'
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class WebhookDispatcher:
    """Sends the due events of ``webhooks`` to the configured URL.

    Args:
        webhooks: the events (and the configuration: URL, secret, attempts).
        clock: the emulator's clock (seconds since the epoch).
        http: the client that sends (tests may pass one with a mock transport); default:
            a client of its own.

    Example:
        >>> dispatcher = WebhookDispatcher(webhooks, clock=clock).start()  # doctest: +SKIP
        >>> dispatcher.stop()  # doctest: +SKIP
    """

    def __init__(
        self,
        webhooks: Webhooks,
        *,
        clock: Callable[[], float],
        http: httpx.Client | None = None,
    ) -> None:
        self.webhooks = webhooks
        self.clock = clock
        self._http = http
        self._owns_http = http is None
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: set[Future[None]] = set()
        self._lock = threading.RLock()  # a future that is already done calls back at once
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        webhooks.on_publish(self._poke)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> WebhookDispatcher:
        """Start the watching thread (idempotent; nothing runs without a webhook URL)."""
        if self._thread is not None or not self.webhooks.enabled:
            return self
        self._client()  # made now: a first client costs tens of ms (TLS set-up), not a lag
        self._stopping = False
        self._thread = threading.Thread(target=self._watch, name="tl-emulator-webhooks")
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and the senders; events not sent yet stay queued."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT_S + 5.0)
            self._thread = None
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        if self._owns_http and self._http is not None:
            self._http.close()
            self._http = None

    # ------------------------------------------------------------------ sending

    def flush(self) -> int:
        """Send every event due now and wait for the answers; returns how many were sent.

        Retries and duplicates that fall due later stay queued.
        """
        sent = 0
        while True:
            sent += self._dispatch()
            with self._lock:
                in_flight = list(self._in_flight)
            if not in_flight:
                return sent
            wait_all(in_flight)

    def _dispatch(self) -> int:
        # Taking what is due and registering it in flight is one step, so a flush never
        # misses deliveries the watching thread has just taken.
        with self._lock:
            due = self.webhooks.due(now_s=self.clock())
            if not due:
                return 0
            if self._pool is None:
                self._pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="tl-webhook-send")
            for delivery in due:
                future = self._pool.submit(self._send, delivery)
                self._in_flight.add(future)
                future.add_done_callback(self._landed)
        return len(due)

    def _landed(self, future: Future[None]) -> None:
        with self._lock:
            self._in_flight.discard(future)

    def _send(self, delivery: Delivery) -> None:
        config = self.webhooks.store.config
        assert config.webhook_url is not None, "a dispatcher runs only with a webhook URL"
        assert config.webhook_secret is not None, "and with a secret (config checks it)"
        headers = {
            "content-type": "application/json",
            "user-agent": "TwelveLabs-Webhooks (tl-integrations emulator)",
            SIGNATURE_HEADER: signature(
                delivery.body, config.webhook_secret, timestamp=int(self.clock())
            ),
        }
        error: str | None
        try:
            response = self._client().post(
                config.webhook_url, content=delivery.body, headers=headers
            )
            error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        self.webhooks.sent(delivery, now_s=self.clock(), error=error)

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)
            return self._http

    # ------------------------------------------------------------------ watching

    def _poke(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def _watch(self) -> None:
        last = (self.clock(), time.monotonic())
        while True:
            with self._wake:
                if self._stopping:
                    return
                now, wall = self.clock(), time.monotonic()
                next_due = self.webhooks.next_due_s()
                if next_due is None or next_due > now:
                    rate = (now - last[0]) / (wall - last[1]) if wall > last[1] else 0.0
                    self._wake.wait(timeout=pause_s(now, next_due, rate=rate))
                    last = (now, wall)
                    continue
            self._dispatch()


def pause_s(now: float, next_due: float | None, *, rate: float) -> float | None:
    """How long (wall seconds) to sleep before the next event is due, the clock running
    ``rate`` clock seconds per wall second; None: until something is published.

    Example:
        >>> pause_s(100.0, 110.0, rate=50.0), pause_s(100.0, 101.0, rate=0.0)
        (0.2, 0.05)
    """
    if next_due is None:
        return None
    if rate <= 0:  # standing still (or set back): look again soon
        return IDLE_WAIT_S
    return min(max(0.0, (next_due - now) / rate), MAX_WAIT_S)
