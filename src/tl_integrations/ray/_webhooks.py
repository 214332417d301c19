"""Webhooks at the index desk: the desk hosts the receiver, so the shared wait listens.

The API POSTs a signed event when an indexing job ends (``index.task.ready`` /
``index.task.failed``). With :class:`Webhooks` given to
:meth:`~tl_integrations.ray.ClusterIndex.open`, the index's desk actor serves a
:class:`~tl_integrations.WebhookReceiver` on ``host:port`` and its one shared wait takes
events from it: a job ends milliseconds after its event, with no request, and the list
endpoint is read only every ``fallback_poll_s`` as the safety net for an event lost or
late. A receiver lives in one process (it holds the secret and refuses pickling), which is
why it runs inside the desk, where the wait is.

Register the URL the desk reports (:attr:`ClusterIndex.webhook_url`, or a tunnel or load
balancer in front of it) in the TwelveLabs dashboard. On a cluster, bind
``host="0.0.0.0"``: the desk may run on any node, and reports that node's address.

Example:
    >>> Webhooks(port=8900, secret="whsec_demo")
    Webhooks(port=8900, host='127.0.0.1', tolerance_s=300.0, fallback_poll_s=60.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .._engine import EVENT_FALLBACK_POLL_S
from .._errors import InvalidRequestError, check_int
from .._webhooks import DEFAULT_TOLERANCE_S, check_tolerance, resolve_secret

if TYPE_CHECKING:
    from .._receiver import WebhookReceiver, WebhookServer

__all__ = ["Webhooks"]

_ANY_HOST = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class Webhooks:
    """Where and how the index desk receives webhooks (settings; they pickle).

    Attributes:
        port: the port the desk listens on (0: any free one; see ``webhook_url``).
        host: the address it binds: ``127.0.0.1`` for one machine (and a tunnel),
            ``0.0.0.0`` on a cluster.
        secret: the signing secret shown where the URL was registered; None: the driver's
            ``TWELVELABS_WEBHOOK_SECRET``. It travels to the desk with the actor's
            arguments (Ray stores them); it is never shown by ``repr`` nor logged.
        tolerance_s: how old an event's signature may be (replays are refused).
        fallback_poll_s: seconds between the safety-net list rounds of the shared wait.

    Raises:
        InvalidRequestError: a bad port, tolerance or fallback.

    Example:
        >>> try:
        ...     Webhooks(port=70000)
        ... except InvalidRequestError as exc:
        ...     print(exc)
        port must be an int from 0 to 65535, got 70000
    """

    port: int = 0
    host: str = "127.0.0.1"
    secret: str | None = field(default=None, repr=False)
    tolerance_s: float = DEFAULT_TOLERANCE_S
    fallback_poll_s: float = EVENT_FALLBACK_POLL_S

    def __post_init__(self) -> None:
        port = self.port
        check_int("port", port, least=0, most=65535)
        if not isinstance(self.host, str):
            raise InvalidRequestError(f"host must be a string, got {self.host!r}")
        object.__setattr__(self, "tolerance_s", check_tolerance(self.tolerance_s))
        fallback = self.fallback_poll_s
        if (
            isinstance(fallback, bool)
            or not isinstance(fallback, int | float)
            or not math.isfinite(fallback)
            or fallback <= 0
        ):
            raise InvalidRequestError(
                f"fallback_poll_s must be a number of seconds > 0, got {fallback!r}"
            )

    def resolved(self) -> Webhooks:
        """These settings with the secret filled in (on the driver, before any actor).

        Raises:
            InvalidRequestError: no secret given and none in ``TWELVELABS_WEBHOOK_SECRET``.

        Example:
            >>> Webhooks(secret="whsec_demo").resolved().secret
            'whsec_demo'
        """
        return replace(self, secret=resolve_secret(self.secret).decode())

    def serve(self) -> tuple[WebhookReceiver, WebhookServer]:
        """Start the receiver and its server here (what the desk does when it starts).

        Raises:
            OSError: the port cannot be bound.

        Example:
            >>> receiver, server = Webhooks(secret="whsec_demo").serve()  # doctest: +SKIP
            >>> server.close()  # doctest: +SKIP
        """
        from .._receiver import WebhookReceiver

        receiver = WebhookReceiver(self.secret, tolerance_s=self.tolerance_s)
        return receiver, receiver.serve(host=self.host, port=self.port)


def reachable_url(server: WebhookServer) -> str:
    """The URL to register: the server's, with this node's address for a wildcard bind.

    Example:
        >>> class Bound:
        ...     host, port, url = "127.0.0.1", 8900, "http://127.0.0.1:8900/"
        >>> reachable_url(Bound())  # type: ignore[arg-type]
        'http://127.0.0.1:8900/'
    """
    if server.host not in _ANY_HOST:
        return server.url
    import ray

    address: str = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{server.port}/"
