"""What a pipeline's workers share: how to reach the API, the budget, and the index desk.

:class:`ClusterIndex` is made once, on the driver, before the pipeline runs: it resolves
the index (so that twenty workers do not race to create it), starts the index's desk actor
(see :mod:`._desk`) and, unless given one, a :class:`~._budget.SharedBudget`. It pickles as
a few settings and two actor handles, so it is what the Ray Data callables take.

Example:
    >>> connection = Connection(base_url="http://127.0.0.1:8765/v1.3", api_key="k")
    >>> connection
    Connection(base_url='http://127.0.0.1:8765/v1.3', budget=None, poll_policy=None, ...)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .._client import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_S, TwelveLabs
from .._embed.params import MODELS
from .._engine import EventSource
from .._errors import InvalidRequestError
from .._polling import PollPolicy
from .._transport import RequestBudget
from ._budget import DEFAULT_WINDOW_S, SharedBudget
from ._desk import DeskActor, RowReport
from ._webhooks import Webhooks

__all__ = ["ClusterIndex", "Connection"]

logger = logging.getLogger("tl_integrations.ray")


@dataclass(frozen=True)
class Connection:
    """How every client of the pipeline reaches the API (settings only; it pickles).

    Attributes:
        base_url: the API base URL; None: the worker's ``TWELVELABS_BASE_URL``, then the
            real API.
        api_key: the key; None: each worker reads its own ``TWELVELABS_API_KEY`` (set it in
            the cluster's ``runtime_env``). A key given here travels with the pipeline's
            tasks (Ray stores their arguments); it is never shown by ``repr``.
        budget: the cluster's shared request budget (None: each client paces itself).
        poll_policy: how waits poll (None: the client's default).
        timeout_s / max_retries: per-request settings of every client.

    Example:
        >>> Connection(api_key="secret").api_key is not None, "secret" in repr(Connection())
        (True, False)
    """

    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    budget: SharedBudget | None = None
    poll_policy: PollPolicy | None = None
    timeout_s: float | None = DEFAULT_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES

    def client(
        self,
        *,
        http_client: httpx.Client | None = None,
        budget: RequestBudget | None = None,
        events: EventSource | None = None,
    ) -> TwelveLabs:
        """A new client with these settings (close it when done).

        Args:
            http_client: an ``httpx.Client`` of your own (not closed by the client).
            budget: another way to ask the shared budget (default: :attr:`budget`).
            events: a webhook receiver in this process, for waits that listen.

        Example:
            >>> Connection(api_key="k").client().base_url
            'https://api.twelvelabs.io/v1.3'
        """
        return TwelveLabs(
            api_key=self.api_key,
            base_url=self.base_url,
            budget=budget if budget is not None else self.budget,
            poll_policy=self.poll_policy,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            http_client=http_client,
            events=events,
        )


@dataclass(frozen=True)
class ClusterIndex:
    """An index as a Ray cluster works on it: its id, the shared budget, and its desk.

    Make it with :meth:`open` on the driver and pass it to the callables
    (:class:`~tl_integrations.ray.IndexVideos`, :class:`~tl_integrations.ray.VideoDocuments`,
    :class:`~tl_integrations.ray.SegmentVectors`). The actors live as long as the driver
    (or until :meth:`close`).

    Attributes:
        index_id: the index.
        connection: how workers reach the API (with the shared budget).
        embedding_model: the index's Marengo model (its segment vectors), if any.
        embedding_options: that model's options (``visual``, ``audio``...).
        webhook_url: where the desk receives webhooks (register it in the TwelveLabs
            dashboard), when opened with ``webhooks=``; else None.

    Example:
        >>> import ray
        >>> index = ClusterIndex.open(index_name="talks")  # doctest: +SKIP
        >>> videos = ds.map_batches(IndexVideos, fn_constructor_args=(index,),
        ...                         compute=worker_pool(4), batch_size=16)  # doctest: +SKIP
        >>> index.counts()  # doctest: +SKIP
        {'uploaded': 120, 'indexed': 130, 'skipped': 2, 'failed': 1}
    """

    index_id: str
    connection: Connection
    desk: Any = field(repr=False)
    embedding_model: str | None = None
    embedding_options: tuple[str, ...] = ()
    owns_budget: bool = field(default=False, repr=False)
    webhook_url: str | None = None

    @classmethod
    def open(
        cls,
        *,
        index_id: str | None = None,
        index_name: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        budget: SharedBudget | bool = True,
        limits: Mapping[str, int] | None = None,
        window_s: float = DEFAULT_WINDOW_S,
        poll_policy: PollPolicy | None = None,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        webhooks: Webhooks | None = None,
    ) -> ClusterIndex:
        """Resolve the index and start what the workers share (call it on the driver).

        Args:
            index_id / index_name: an existing index, or one got or created by name (give
                one of them).
            api_key / base_url: see :class:`Connection`.
            budget: True starts a :class:`SharedBudget` for this index's pipeline; pass one
                to share it with other pipelines of the same account; False: none.
            limits / window_s: for a budget started here (see :meth:`SharedBudget.start`).
            poll_policy / timeout_s / max_retries: settings of every client.
            webhooks: the desk serves a webhook receiver (see :class:`Webhooks`) and its
                shared wait ends jobs on events, polling only as a slow safety net;
                register :attr:`webhook_url` in the TwelveLabs dashboard.

        Raises:
            InvalidRequestError: both or neither of ``index_id`` and ``index_name``; no
                webhook secret (argument or ``TWELVELABS_WEBHOOK_SECRET``).
            NotFoundError: no index ``index_id``.
            OSError: the desk cannot serve webhooks on the port asked for.

        Example:
            >>> index = ClusterIndex.open(index_id="6650a1b2c3d4e5f601234567")  # doctest: +SKIP
        """
        import ray

        if (index_id is None) == (index_name is None):
            raise InvalidRequestError("give index_id or index_name (one of them)")
        if webhooks is not None and not isinstance(webhooks, Webhooks):
            raise InvalidRequestError(
                f"webhooks must be a tl_integrations.ray.Webhooks, got {type(webhooks).__name__}"
            )
        hooks = webhooks.resolved() if webhooks is not None else None  # before any actor
        shared = SharedBudget.start(window_s=window_s, limits=limits) if budget is True else None
        chosen = budget if isinstance(budget, SharedBudget) else shared

        def connection_to(url: str | None) -> Connection:
            return Connection(
                base_url=url,
                api_key=api_key,
                budget=chosen,
                poll_policy=poll_policy,
                timeout_s=timeout_s,
                max_retries=max_retries,
            )

        try:
            with connection_to(base_url).client() as client:
                index = (
                    client.indexes.retrieve(index_id)
                    if index_id is not None
                    else client.indexes.get_or_create(str(index_name))
                )
                # Workers use the driver's server, whatever their own environment says.
                connection = connection_to(client.base_url)
        except BaseException:
            if shared is not None:
                shared.close()
            raise
        marengo = next((m for m in index.models if m.name in MODELS), None)
        desk: Any = (
            ray.remote(DeskActor)
            .options(num_cpus=0, max_restarts=0)
            .remote(connection, index.id, hooks)
        )
        url: str | None = None
        if hooks is not None:
            try:
                url = ray.get(desk.webhook_url.remote())
            except ray.exceptions.RayActorError as exc:
                if shared is not None:
                    shared.close()
                raise OSError(
                    f"the index desk could not serve webhooks on {hooks.host}:{hooks.port} "
                    f"(choose a free port, or 0 for any): {exc}"
                ) from None
            logger.info("index %s receives webhooks at %s", index.id, url)
        logger.info("cluster index %s ready (desk %s)", index.id, desk)
        return cls(
            index_id=index.id,
            connection=connection,
            desk=desk,
            embedding_model=marengo.name if marengo else None,
            embedding_options=tuple(marengo.options) if marengo else (),
            owns_budget=shared is not None,
            webhook_url=url,
        )

    def client(self) -> TwelveLabs:
        """A new client for this index's pipeline (with the shared budget).

        Example:
            >>> with index.client() as client:  # doctest: +SKIP
            ...     client.indexes.retrieve(index.index_id).name
        """
        return self.connection.client()

    @property
    def budget(self) -> SharedBudget | None:
        """The shared budget (None when the pipeline runs without one).

        Example:
            >>> index.budget.stats()["categories"]  # doctest: +SKIP
        """
        return self.connection.budget

    def summary(self) -> dict[str, Any]:
        """Counts, failures, and what the shared wait cost (``waited`` jobs, ``rounds``,
        ``wait_requests`` by route, ``members``: the processes that used the desk), and
        ``webhooks``: events heard, duplicates and rejected ones (None without webhooks).

        Example:
            >>> index.summary()["wait_requests"]  # doctest: +SKIP
            {'GET /indexed-assets': 31}
        """
        import ray

        summary: dict[str, Any] = ray.get(self.desk.summary.remote())
        return summary

    def counts(self) -> dict[str, int]:
        """Inputs uploaded, indexed, skipped and failed since :meth:`open` or the last
        :meth:`reset_counts` (each input counted once, whatever Ray retried).

        Example:
            >>> index.counts()  # doctest: +SKIP
            {'uploaded': 98, 'indexed': 100, 'skipped': 1, 'failed': 0}
        """
        counts: dict[str, int] = self.summary()["counts"]
        return counts

    def reset_counts(self) -> None:
        """Count afresh from now (a new run of a pipeline on this index).

        Claims are kept: an input already owned by another keeps being skipped.

        Example:
            >>> index.reset_counts(); index.counts()["uploaded"]  # doctest: +SKIP
            0
        """
        import ray

        ray.get(self.desk.reset_counts.remote())

    def report(self, reports: list[RowReport]) -> None:
        """Record outcomes of inputs at the desk (what the callables do after each batch).

        Example:
            >>> index.report([RowReport("a.mp4", "skipped", "done earlier")])  # doctest: +SKIP
        """
        self.desk.report.remote(reports)

    def close(self) -> None:
        """Stop the desk, and the budget if it was started here.

        Example:
            >>> index.close()  # doctest: +SKIP
        """
        import ray

        ray.kill(self.desk)
        if self.owns_budget and self.connection.budget is not None:
            self.connection.budget.close()

    def __enter__(self) -> ClusterIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
