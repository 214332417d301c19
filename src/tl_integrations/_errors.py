"""One exception tree for everything tl_integrations raises.

Every error derives from :class:`TwelveLabsError`. HTTP failures are sorted by status,
transport failures become :class:`APIConnectionError`, and the outcome of a wait is either a
value, :class:`TaskFailedError` or :class:`TaskTimeoutError`. Messages name what failed (task
id, file, status) and never contain the API key.

Example:
    >>> from tl_integrations import NotFoundError, TwelveLabsError
    >>> try:
    ...     raise NotFoundError("index 'abc' not found", status_code=404, code="not_found")
    ... except TwelveLabsError as exc:
    ...     print(type(exc).__name__, exc.status_code, exc.code)
    NotFoundError 404 not_found
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InvalidRequestError",
    "InvalidVideoError",
    "MalformedResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "TaskFailedError",
    "TaskTimeoutError",
    "TwelveLabsError",
    "WebhookVerificationError",
    "check_int",
    "error_type",
]


class TwelveLabsError(Exception):
    """Root of every error raised by tl_integrations.

    Example:
        >>> err = TaskTimeoutError("t1", last_status="indexing", timeout_s=5.0)
        >>> isinstance(err, TwelveLabsError)
        True
    """


class InvalidRequestError(TwelveLabsError, ValueError):
    """A request was refused on the client side before anything was sent.

    Raised for bad parameters (clip length out of range, both index options, unknown model).
    It is also a builtin :class:`ValueError`.

    Example:
        >>> raise InvalidRequestError("video_clip_length must be 2 to 10 s, got 11")
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: video_clip_length must be 2 to 10 s, got 11
    """


def check_int(
    name: str, value: object, *, least: int = 1, most: int | None = None, other: str = ""
) -> int:
    """``value`` if it is an int from ``least`` (to ``most``), else the
    :class:`InvalidRequestError` that names the argument and what it got (``True`` is not a
    count); ``other`` names what the argument also takes (checked by the caller).

    Example:
        >>> check_int("workers", 4)
        4
        >>> check_int("page_limit", 0, most=50)
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: page_limit must be an int from 1 to 50, got 0
        >>> check_int("max_results", 0, other="None")
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: max_results must be an int >= 1 or None, got 0
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < least
        or (most is not None and value > most)
    ):
        span = f">= {least}" if most is None else f"from {least} to {most}"
        span += f" or {other}" if other else ""
        raise InvalidRequestError(f"{name} must be an int {span}, got {value!r}")
    return value


class InvalidVideoError(InvalidRequestError):
    """A local video file cannot be uploaded (missing, a directory, empty, too large).

    Attributes:
        path: the file the caller gave, as a string.

    Example:
        >>> err = InvalidVideoError("no such file: 'a.mp4'; check the path", path="a.mp4")
        >>> err.path
        'a.mp4'
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class APIConnectionError(TwelveLabsError):
    """The server could not be reached, or the connection broke before a response arrived.

    The underlying httpx exception is chained as ``__cause__``.

    Example:
        >>> str(APIConnectionError("GET /tasks/t1: connection refused"))
        'GET /tasks/t1: connection refused'
    """


class MalformedResponseError(TwelveLabsError):
    """The API answered 2xx with a body that does not have the documented shape.

    Decoders raise it for truncated JSON, wrong types, missing fields or non-finite vectors,
    so a hostile or broken response never surfaces as a ``KeyError`` or ``TypeError``.

    Attributes:
        body: the decoded body (or a prefix of it), when there was one.

    Example:
        >>> MalformedResponseError("task: expected a JSON object, got list", body=[]).body
        []
    """

    def __init__(self, message: str, *, body: Any = None) -> None:
        super().__init__(message)
        self.body = body


class APIStatusError(TwelveLabsError):
    """The API answered with an error status.

    Attributes:
        status_code: the HTTP status.
        code: the API's error code (``parameter_invalid``, ``VALIDATION_ERROR``...) or None.
        api_message: the API's own message, if it sent one.
        method: the HTTP method of the failed request, if known.
        path: the request path (without host or key), if known.
        retry_after_s: how long the server asked us to wait, if it said so.

    Example:
        >>> err = APIStatusError("boom", status_code=502)
        >>> err.status_code
        502
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        api_message: str | None = None,
        method: str | None = None,
        path: str | None = None,
        retry_after_s: float | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.api_message = api_message
        self.method = method
        self.path = path
        self.retry_after_s = retry_after_s
        self.body = body

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields are not in self.args; rebuild from the instance dict instead.
        return (_rebuild_status_error, (type(self), str(self), self.__dict__))


def _rebuild_status_error(
    cls: type[APIStatusError], message: str, state: dict[str, Any]
) -> APIStatusError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class BadRequestError(APIStatusError):
    """HTTP 400 (also 422): the API refused the parameters; ``code`` says which rule.

    Example:
        >>> BadRequestError("x", status_code=400, code="video_duration_too_short").code
        'video_duration_too_short'
    """


class AuthenticationError(APIStatusError):
    """HTTP 401: the API key is missing, invalid or expired.

    Example:
        >>> AuthenticationError("api key rejected", status_code=401).status_code
        401
    """


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the key's plan or region does not allow this call.

    Example:
        >>> PermissionDeniedError("not on this plan", status_code=403).status_code
        403
    """


class NotFoundError(APIStatusError):
    """HTTP 404: the index, task or video does not exist.

    Example:
        >>> NotFoundError("task 't1' not found", status_code=404).status_code
        404
    """


class ConflictError(APIStatusError):
    """HTTP 409: the resource is in a state that forbids the call.

    Example:
        >>> ConflictError("asset in use", status_code=409).status_code
        409
    """


class RateLimitError(APIStatusError):
    """HTTP 429: too many requests; ``retry_after_s`` says how long to wait when known.

    Example:
        >>> RateLimitError("slow down", status_code=429, retry_after_s=2.0).retry_after_s
        2.0
    """


class ServerError(APIStatusError):
    """HTTP 5xx (and 408): the server failed; usually transient and retried.

    Example:
        >>> ServerError("bad gateway", status_code=502).status_code
        502
    """


class TaskFailedError(TwelveLabsError):
    """A job (task, asset, indexed asset, analysis...) ended in ``failed`` (or ``canceled``).

    Attributes:
        task_id: the failed job's id.
        video_id: the video the task was for, if known.
        index_id: the index, if known (indexing tasks).
        filename: the uploaded file's name, if known.
        reason: the reason the server gave, if any.
        task: the last job object seen.
        noun: what kind of job it was (``"task"``, ``"asset"``, ``"analysis task"``...).

    Example:
        >>> err = TaskFailedError("t1", filename="a.mp4", reason="video_file_broken")
        >>> print(err)
        task t1 failed (file 'a.mp4'): video_file_broken
    """

    def __init__(
        self,
        task_id: str,
        *,
        video_id: str | None = None,
        index_id: str | None = None,
        filename: str | None = None,
        reason: str | None = None,
        task: Any = None,
        noun: str = "task",
    ) -> None:
        self.task_id = task_id
        self.noun = noun
        self.video_id = video_id
        self.index_id = index_id
        self.filename = filename
        self.reason = reason
        self.task = task
        parts = [f"{noun} {task_id} failed"]
        details = []
        if filename:
            details.append(f"file {filename!r}")
        if video_id:
            details.append(f"video {video_id}")
        if index_id:
            details.append(f"index {index_id}")
        if details:
            parts.append(f"({', '.join(details)})")
        message = " ".join(parts)
        message += f": {reason}" if reason else ": the server gave no reason"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_task_failed, (self.task_id, self.__dict__))


def _rebuild_task_failed(task_id: str, state: dict[str, Any]) -> TaskFailedError:
    keys = ("video_id", "index_id", "filename", "reason", "task")
    fields = {k: state.get(k) for k in keys}
    return TaskFailedError(task_id, noun=state.get("noun") or "task", **fields)


class TaskTimeoutError(TwelveLabsError, TimeoutError):
    """A wait reached its deadline before the task (or tasks) finished.

    It is also a builtin :class:`TimeoutError`. The tasks keep running on the server; call
    ``wait`` again with the same ids to resume.

    Attributes:
        task_ids: every task still pending at the deadline.
        task_id: the first of them (convenient when waiting for one).
        last_status: the last status seen for ``task_id``.
        timeout_s: the deadline that passed, in seconds.
        retry_after_s: when the server asked to come back after the deadline, how many
            seconds it asked for (a rate limit's ``Retry-After``), else None.
        noun: what kind of job it was (``"task"``, ``"asset"``...).

    Example:
        >>> err = TaskTimeoutError("t1", last_status="indexing", timeout_s=30.0)
        >>> print(err)
        task t1 still 'indexing' after 30.0 s; call wait() again to resume
        >>> isinstance(err, TimeoutError)
        True
    """

    def __init__(
        self,
        task_ids: str | Sequence[str],
        *,
        last_status: str | None = None,
        timeout_s: float | None = None,
        retry_after_s: float | None = None,
        noun: str = "task",
    ) -> None:
        ids = [task_ids] if isinstance(task_ids, str) else list(task_ids)
        self.task_ids = ids
        self.task_id = ids[0] if ids else ""
        self.last_status = last_status
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self.noun = noun
        after = f" after {timeout_s} s" if timeout_s is not None else ""
        if len(ids) == 1:
            message = f"{noun} {ids[0]} still {last_status!r}{after}"
        else:
            shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
            message = f"{len(ids)} {noun}s still pending{after}: {shown}"
        if retry_after_s is not None:
            message += f" (the server asked to come back in {retry_after_s:.1f} s)"
        super().__init__(message + "; call wait() again to resume")

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_task_timeout,
            (self.task_ids, self.last_status, self.timeout_s, self.retry_after_s, self.noun),
        )


def _rebuild_task_timeout(
    task_ids: list[str],
    last_status: str | None,
    timeout_s: float | None,
    retry_after_s: float | None = None,
    noun: str = "task",
) -> TaskTimeoutError:
    return TaskTimeoutError(
        task_ids,
        last_status=last_status,
        timeout_s=timeout_s,
        retry_after_s=retry_after_s,
        noun=noun,
    )


class WebhookVerificationError(TwelveLabsError):
    """A webhook request was refused: forged or missing signature, stale timestamp, or a
    body that is not a TwelveLabs event.

    Answer such a request with a 4xx and do nothing else with it. The message says what
    was wrong and never contains the secret.

    Attributes:
        reason: ``"signature"`` (missing, malformed or not matching), ``"timestamp"``
            (outside the tolerance window: a replay, or a clock far off) or ``"body"``
            (signed correctly but not an event).

    Example:
        >>> err = WebhookVerificationError("TL-Signature does not match", reason="signature")
        >>> err.reason, isinstance(err, TwelveLabsError)
        ('signature', True)
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_webhook_error, (str(self), self.reason))


def _rebuild_webhook_error(message: str, reason: str) -> WebhookVerificationError:
    return WebhookVerificationError(message, reason=reason)


# Users import these from ``tl_integrations``; tracebacks and reprs should say so too (and
# pickles find them there).
for _cls in (
    TwelveLabsError,
    InvalidRequestError,
    InvalidVideoError,
    APIConnectionError,
    MalformedResponseError,
    APIStatusError,
    BadRequestError,
    AuthenticationError,
    PermissionDeniedError,
    NotFoundError,
    ConflictError,
    RateLimitError,
    ServerError,
    TaskFailedError,
    TaskTimeoutError,
    WebhookVerificationError,
):
    _cls.__module__ = "tl_integrations"


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: ServerError,
    409: ConflictError,
    413: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}


def error_type(status: int) -> type[APIStatusError]:
    """The error class of an HTTP error status (any other 5xx is a :class:`ServerError`).

    Example:
        >>> error_type(404).__name__, error_type(503).__name__, error_type(418).__name__
        ('NotFoundError', 'ServerError', 'APIStatusError')
    """
    return _STATUS_ERRORS.get(status, ServerError if status >= 500 else APIStatusError)
