"""HTTP plumbing shared by both clients: request building, error mapping, the retrying send.

Everything except :func:`send` and :func:`async_send` is pure. Those two shells build a fresh
request per attempt (so an upload is re-opened and starts again at byte 0), send it, and ask
:class:`~tl_integrations.retrying.RetryPolicy` what to do about a failure. They differ only by
``await``.

Form bodies: ``data`` is encoded as multipart/form-data whenever ``files`` is given, even an
empty mapping (the TwelveLabs endpoints ``/tasks``, ``/search``, ``/embed/tasks`` are
multipart-only); ``files`` values may be :class:`~tl_integrations.uploads.UploadSource` or
anything httpx accepts.

Example:
    >>> import httpx
    >>> response = httpx.Response(400, json={"code": "parameter_invalid", "message": "bad id"})
    >>> err = error_from_response(response, method="GET", path="/tasks/x")
    >>> type(err).__name__, err.code
    ('BadRequestError', 'parameter_invalid')
    >>> str(err)
    'GET /tasks/x failed with 400 parameter_invalid: bad id'
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, Literal

import httpx
import orjson

from ._responses import (
    ErrorShape,
    body_text,
    connection_error,
    error_from_response,
    now_epoch,
    response_json,
)
from .errors import (
    InvalidRequestError,
)
from .retrying import IDEMPOTENT_METHODS, Outcome, RetryPolicy, TransportFailure
from .uploads import UploadSource

__all__ = [
    "RetryMode",
    "async_send",
    "body_text",
    "build_request",
    "error_from_response",
    "response_json",
    "send",
]

logger = logging.getLogger("tl_integrations")

RetryMode = Literal["auto", "always", "never"]

# httpx raises these before a single byte of the request left this machine.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class _ForceMultipart(dict[str, Any]):
    """An empty files mapping that is truthy, so httpx encodes the form as multipart."""

    def __bool__(self) -> bool:
        return True


def build_request(
    http: httpx.Client | httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    data: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = None,
) -> httpx.Request:
    """Build one httpx request; ``files`` must already hold opened file tuples.

    ``None`` values in params and data are dropped; booleans become ``true``/``false``;
    list values repeat the key.
    """
    content: bytes | None = None
    request_headers = dict(headers)
    if json is not None:
        content = orjson.dumps(json)
        request_headers["Content-Type"] = "application/json"
    form = _form(data) if data is not None else None
    if files is not None and not files:
        files = _ForceMultipart()
    return http.build_request(
        method,
        url,
        params=_params(params),
        content=content,
        data=form,
        files=files,
        headers=request_headers,
    )


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    cleaned: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            cleaned[key] = [_scalar(item) for item in value]
        else:
            cleaned[key] = _scalar(value)
    return cleaned


def _form(data: Mapping[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            form[key] = [str(_scalar(item)) for item in value]
        else:
            form[key] = str(_scalar(value))
    return form


@contextlib.contextmanager
def opened_files(files: Mapping[str, Any] | None) -> Iterator[dict[str, Any] | None]:
    """Open every :class:`UploadSource` in ``files`` for one attempt; close them afterwards."""
    if files is None:
        yield None
        return
    with contextlib.ExitStack() as stack:
        ready: dict[str, Any] = {}
        for name, value in files.items():
            ready[name] = stack.enter_context(value.opened()) if _is_source(value) else value
        yield ready


def _is_source(value: object) -> bool:
    return isinstance(value, UploadSource)


def can_resend(files: Mapping[str, Any] | None) -> bool:
    """False when an upload is a non-seekable stream, which can only be sent once."""
    if not files:
        return True
    return all(value.rewindable for value in files.values() if _is_source(value))


def is_idempotent(method: str, retry: RetryMode) -> bool:
    """Whether a failure after the request was sent may be retried."""
    if retry == "always":
        return True
    return method.upper() in IDEMPOTENT_METHODS


def transport_failure(exc: httpx.TransportError) -> TransportFailure:
    """``"not_sent"`` when the connection never opened, else ``"maybe_sent"``."""
    return "not_sent" if isinstance(exc, _NOT_SENT) else "maybe_sent"


def _outcome(
    response: httpx.Response | None, failure: TransportFailure | None, idempotent: bool
) -> Outcome:
    if response is None:
        return Outcome(transport_failure=failure, idempotent=idempotent)
    return Outcome(
        status_code=response.status_code,
        headers=response.headers,
        idempotent=idempotent,
        now_epoch=now_epoch(response.headers),
    )


class _Attempts:
    """The pure bookkeeping of one logical request's attempts, shared by both shells."""

    def __init__(
        self, *, method: str, path: str, retry: RetryMode, policy: RetryPolicy, files: Any
    ) -> None:
        self.method = method
        self.path = path
        self.idempotent = is_idempotent(method, retry)
        self.policy = policy if retry != "never" else policy.with_max_retries(0)
        if not can_resend(files):
            self.policy = self.policy.with_max_retries(0)
        self.attempt = 0
        self.paced_s = 0.0

    def on_response(self, response: httpx.Response, error_shape: ErrorShape) -> float:
        """A non-2xx response: the delay before retrying, or raise the mapped error."""
        outcome = _outcome(response, None, self.idempotent)
        paced = self.policy.pacing_s(outcome, waited_s=self.paced_s)
        if paced is not None:
            self.paced_s += self.policy.pacing_cost_s(paced)
            logger.debug(
                "retrying %s %s after status 429 in %.2f s (paced by the server; %.1f of %.1f s)",
                self.method,
                self.path,
                paced,
                self.paced_s,
                self.policy.max_throttle_s,
            )
            return paced
        delay = self.policy.decide(self.attempt, outcome)
        if delay is None:
            raise error_from_response(
                response, method=self.method, path=self.path, error_shape=error_shape
            )
        return self._retrying(delay, f"status {response.status_code}")

    def on_transport_error(self, exc: httpx.TransportError) -> float:
        """A transport failure: the delay before retrying, or raise APIConnectionError."""
        failure = transport_failure(exc)
        delay = self.policy.decide(self.attempt, _outcome(None, failure, self.idempotent))
        if delay is None:
            raise connection_error(exc, method=self.method, path=self.path) from exc
        return self._retrying(delay, f"{type(exc).__name__} ({failure})")

    def _retrying(self, delay: float, why: str) -> float:
        self.attempt += 1
        logger.debug(
            "retrying %s %s after %s in %.2f s (retry %d of %d)",
            self.method,
            self.path,
            why,
            delay,
            self.attempt,
            self.policy.max_retries,
        )
        return delay


def send(
    http: httpx.Client,
    build: Callable[[dict[str, Any] | None], httpx.Request],
    *,
    method: str,
    path: str,
    files: Mapping[str, Any] | None,
    retry: RetryMode,
    error_shape: ErrorShape,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> httpx.Response:
    """Send one logical request with retries; return the 2xx response or raise a typed error.

    ``build`` receives the opened files of the attempt and returns the request to send.
    """
    attempts = _Attempts(method=method, path=path, retry=retry, policy=policy, files=files)
    while True:
        try:
            with opened_files(files) as ready:
                response = http.send(build(ready))
        except httpx.TransportError as exc:
            sleep(attempts.on_transport_error(exc))
            continue
        _log_response(response, method, path)
        if response.is_success:
            return response
        sleep(attempts.on_response(response, error_shape))


async def async_send(
    http: httpx.AsyncClient,
    build: Callable[[dict[str, Any] | None], httpx.Request],
    *,
    method: str,
    path: str,
    files: Mapping[str, Any] | None,
    retry: RetryMode,
    error_shape: ErrorShape,
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]],
) -> httpx.Response:
    """The async twin of :func:`send`."""
    attempts = _Attempts(method=method, path=path, retry=retry, policy=policy, files=files)
    while True:
        try:
            with opened_files(files) as ready:
                response = await http.send(build(ready))
        except httpx.TransportError as exc:
            await sleep(attempts.on_transport_error(exc))
            continue
        _log_response(response, method, path)
        if response.is_success:
            return response
        await sleep(attempts.on_response(response, error_shape))


def _log_response(response: httpx.Response, method: str, path: str) -> None:
    elapsed = response.elapsed.total_seconds() if _has_elapsed(response) else 0.0
    logger.debug("%s %s -> %d (%.3f s)", method, path, response.status_code, elapsed)


def _has_elapsed(response: httpx.Response) -> bool:
    try:
        response.elapsed  # noqa: B018
    except RuntimeError:
        return False
    return True


def check_retry_mode(retry: str, error_shape: str) -> None:
    """Reject unknown ``retry`` / ``error_shape`` values early with a clear message."""
    if retry not in ("auto", "always", "never"):
        raise InvalidRequestError(f"retry must be 'auto', 'always' or 'never', got {retry!r}")
    if error_shape not in ("auto", "classic", "wrapped"):
        raise InvalidRequestError(
            f"error_shape must be 'auto', 'classic' or 'wrapped', got {error_shape!r}"
        )
