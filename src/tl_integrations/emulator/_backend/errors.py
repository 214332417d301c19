"""Domain errors of the emulator's backend: what went wrong, never how it is sent.

The backend raises these; the HTTP layer maps each class to a status and an error body in
one place (``apierror.api_error_of``). ``code`` is the TwelveLabs error code to answer with
and ``field`` names the offending request field, when there is one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

__all__ = [
    "Conflict",
    "EmulatorError",
    "Forbidden",
    "Invalid",
    "NotFound",
    "TooLarge",
    "Unprocessable",
    "check_among",
    "invalid",
    "missing",
]


class EmulatorError(Exception):
    """The root of the backend's errors.

    Args:
        message: Human-readable explanation naming the offending value.
        code: The API error code.
        field: The request field at fault, if any.

    Example:
        >>> err = EmulatorError("it broke", code="generic_error")
        >>> (err.code, err.message, err.field)
        ('generic_error', 'it broke', None)
    """

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class Invalid(EmulatorError):
    """A request the API refuses (a bad parameter, a media rule, a state that forbids it).

    Example:
        >>> Invalid("page", "page: must be >= 1").code
        'parameter_invalid'
        >>> Invalid(None, "too short", code="video_duration_too_short").field is None
        True
    """

    def __init__(self, field: str | None, message: str, *, code: str = "parameter_invalid") -> None:
        super().__init__(message, code=code, field=field)


class Unprocessable(EmulatorError):
    """A well-formed request the API cannot act on (a JSON-schema keyword it does not
    support, an ``Idempotency-Key`` reused for another request).

    Example:
        >>> Unprocessable("minLength is not supported", field="response_format").code
        'parameter_unsupported'
    """

    def __init__(
        self, message: str, *, field: str | None = None, code: str = "parameter_unsupported"
    ) -> None:
        super().__init__(message, code=code, field=field)


class NotFound(EmulatorError):
    """Something looked up by id does not exist.

    Example:
        >>> str(NotFound("index", "abc"))
        "The index 'abc' does not exist."
    """

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"The {kind} {ident!r} does not exist.", code="resource_not_exist")
        self.kind = kind
        self.ident = ident


class Conflict(EmulatorError):
    """The request clashes with the state of a resource (an asset still in use).

    Example:
        >>> Conflict("asset in use", code="asset_in_use").code
        'asset_in_use'
    """


class Forbidden(EmulatorError):
    """A credential-like token was refused (a presigned URL that is used, expired or forged).

    Example:
        >>> Forbidden("expired", code="url_expired").message
        'expired'
    """


class TooLarge(EmulatorError):
    """A medium over a size or page limit of the synchronous embedding endpoint (413).

    Example:
        >>> TooLarge("File size (33.6 MB) exceeds maximum limit of 32 MB").code
        'content_too_large'
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, code="content_too_large", field=field)


def invalid(field: str, message: str) -> Invalid:
    """A ``parameter_invalid`` error whose message starts with the field name.

    Example:
        >>> invalid("page", "must be >= 1").message
        'page: must be >= 1'
    """
    return Invalid(field, f"{field}: {message}")


def check_among(field: str, values: Iterable[str], allowed: Collection[str]) -> None:
    """Refuse the values of a list parameter that are not among ``allowed``.

    Raises:
        Invalid: Naming the field, what it allows and the values it does not.

    Example:
        >>> check_among("status", ["ready"], ("ready", "failed"))
        >>> try:
        ...     check_among("status", ["ready", "done"], ("ready", "failed"))
        ... except Invalid as err:
        ...     print(err.message)
        status: values must be among ['ready', 'failed'], got ['done']
    """
    bad = [v for v in values if v not in allowed]
    if bad:
        raise invalid(field, f"values must be among {list(allowed)}, got {bad}")


def missing(field: str) -> Invalid:
    """A ``parameter_not_provided`` error naming the field.

    Example:
        >>> missing("index_id").message
        'The index_id parameter is required.'
    """
    return Invalid(field, f"The {field} parameter is required.", code="parameter_not_provided")
