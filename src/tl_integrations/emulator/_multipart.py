"""Reading request bodies within limits: a streaming multipart/form-data parser that writes
file parts straight to disk, and capped reads of whole bodies (JSON, urlencoded forms).

Starlette's ``request.form()`` spools files through ``SpooledTemporaryFile`` and a thread
pool; this parser feeds the request stream chunk by chunk to python-multipart and appends
file bytes to a file in the emulator's upload directory, so memory stays flat whatever the
upload size, and the upload can be moved (not copied) into the media store afterwards.

Nothing is read past a limit (:class:`~.config.RequestLimits`): too many parts, too much
text or a body larger than allowed is a 413 as soon as the excess arrives.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import parse_qsl

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from ._apierror import ApiError
from ._backend.errors import Invalid
from ._backend.formats import check_filename
from ._config import RequestLimits

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = ["FilePart", "Form", "parse_form", "read_limited", "too_large"]

_MAX_TEXT_FILE_BYTES = 64 * 1024  # a "file" part small enough to be a URL or a text


def too_large(what: str, limit: int, setting: str) -> ApiError:
    """The 413 for a request over one of the :class:`RequestLimits`.

    Example:
        >>> too_large("The JSON body", 10, "json_bytes").status
        413
    """
    return ApiError(
        413,
        "request_too_large",
        f"{what} is over the emulator's limit of {limit}; send less, or raise "
        f"RequestLimits.{setting}.",
    )


async def read_limited(request: Request, *, max_bytes: int, what: str, setting: str) -> bytes:
    """The whole body, refused as soon as it passes ``max_bytes`` (or declares more).

    Raises:
        ApiError: 413 when the body is larger.

    Example:
        >>> raw = await read_limited(request, max_bytes=2**20, what="The JSON body",
        ...                          setting="json_bytes")  # doctest: +SKIP
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large(f"{what} ({declared} bytes)", max_bytes, setting)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise too_large(what, max_bytes, setting)
    return bytes(body)


@dataclass
class FilePart:
    """One uploaded file, already on disk.

    Example:
        >>> FilePart("video_file", "a.mp4", Path("/tmp/x"), 10).filename
        'a.mp4'
    """

    name: str
    filename: str
    path: Path
    size: int


@dataclass
class Form:
    """Parsed form: text fields and file parts, both possibly repeated.

    Example:
        >>> f = Form(fields={"search_options": ["visual", "audio"]})
        >>> f.get("search_options"), f.getlist("search_options"), f.get("missing")
        ('visual', ['visual', 'audio'], None)
    """

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[FilePart]] = field(default_factory=dict)
    bytes_received: int = 0

    def getlist(self, name: str) -> list[str]:
        """Every value of a field; small file parts of that name count as text (old SDKs)."""
        values = list(self.fields.get(name, []))
        if not values:
            values = [t for t in (_as_text(p) for p in self.files.get(name, [])) if t is not None]
        return values

    def get(self, name: str) -> str | None:
        """The first value of a field (see :meth:`getlist`), or None."""
        values = self.getlist(name)
        return values[0] if values else None

    def file(self, name: str) -> FilePart | None:
        """The first file part of that name, or None."""
        parts = self.files.get(name)
        return parts[0] if parts else None

    def __enter__(self) -> Form:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        """Delete the temporary files still on disk (those not moved away); leaving a
        ``with form:`` block does it."""
        for parts in self.files.values():
            for part in parts:
                with contextlib.suppress(FileNotFoundError):
                    part.path.unlink()


def _as_text(part: FilePart) -> str | None:
    if part.size > _MAX_TEXT_FILE_BYTES:
        return None
    try:
        return part.path.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


class _Collector:
    """python-multipart callbacks; file data goes to disk as it arrives."""

    def __init__(
        self, form: Form, *, tmp_dir: Path, max_file_bytes: int, limits: RequestLimits
    ) -> None:
        self.form = form
        self.tmp_dir = tmp_dir
        self.max_file_bytes = max_file_bytes
        self.limits = limits
        self.parts = 0
        self.text_bytes = 0
        # Several file parts together may carry one file's worth, plus small texts.
        self.max_files_bytes = max_file_bytes + limits.form_text_bytes
        self.files_bytes = 0
        self.header_name = b""
        self.header_value = b""
        self.disposition = b""
        self.name = ""
        self.data = bytearray()
        self.part: FilePart | None = None
        self.handle: IO[bytes] | None = None

    def on_part_begin(self) -> None:
        self.disposition, self.part, self.data = b"", None, bytearray()
        self.parts += 1
        if self.parts > self.limits.form_parts:
            raise too_large("The form's number of parts", self.limits.form_parts, "form_parts")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.header_name.lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        if b"name" not in options:
            raise Invalid(None, "A form part has no name.")
        self.name = options[b"name"].decode("utf-8", "replace")
        if b"filename" in options:
            filename = options[b"filename"].decode("utf-8", "replace")
            # Refused here, for every form route: a NUL cannot be in a path, and a stored
            # name with control characters breaks what later names files after it.
            check_filename(filename, field=f"{self.name} (its filename)")
            fd, path = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-")
            self.handle = os.fdopen(fd, "wb")
            self.part = FilePart(self.name, os.path.basename(filename), Path(path), 0)
            self.form.files.setdefault(self.name, []).append(self.part)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part is None:
            self.text_bytes += end - start
            if len(self.data) + end - start > self.limits.form_field_bytes:
                raise Invalid(self.name, f"The field {self.name!r} is too long.")
            if self.text_bytes > self.limits.form_text_bytes:
                limit = self.limits.form_text_bytes
                raise too_large("The form's text", limit, "form_text_bytes")
            self.data += data[start:end]
            return
        assert self.handle is not None
        self.part.size += end - start
        self.files_bytes += end - start
        if self.files_bytes > self.max_files_bytes:
            raise too_large("The form's files together", self.max_files_bytes, "form_text_bytes")
        if self.part.size > self.max_file_bytes:
            raise Invalid(
                self.name,
                f"The file {self.part.filename!r} is too large: the limit is "
                f"{self.max_file_bytes} bytes and the upload exceeded it.",
                code="video_filesize_too_large",
            )
        self.handle.write(data[start:end])

    def on_part_end(self) -> None:
        if self.part is None:
            self.form.fields.setdefault(self.name, []).append(self.data.decode("utf-8", "replace"))
        self.close()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


async def parse_form(
    request: Request,
    *,
    tmp_dir: Path,
    max_file_bytes: int,
    limits: RequestLimits | None = None,
) -> Form:
    """Parse a multipart (or urlencoded) body, streaming file parts to ``tmp_dir``.

    Raises:
        Invalid: On a malformed body, a field over ``form_field_bytes`` or a file larger
            than ``max_file_bytes``.
        ApiError: 413 for more parts or text than ``limits`` allow.

    Example:
        >>> form = await parse_form(  # doctest: +SKIP
        ...     request, tmp_dir=Path("/tmp"), max_file_bytes=2**31)
    """
    limits = limits or RequestLimits()
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    form = Form()
    if ctype == b"application/x-www-form-urlencoded":
        raw = await read_limited(
            request, max_bytes=limits.form_text_bytes, what="The form", setting="form_text_bytes"
        )
        try:
            text = raw.decode("utf-8", "replace")
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=limits.form_parts)
        except ValueError as exc:
            raise too_large("The form's number of fields", limits.form_parts, "form_parts") from exc
        for key, value in pairs:
            form.fields.setdefault(key, []).append(value)
        form.bytes_received = len(raw)
        return form
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise Invalid(None, "The request body must be multipart/form-data.")
    collector = _Collector(form, tmp_dir=tmp_dir, max_file_bytes=max_file_bytes, limits=limits)
    parser = MultipartParser(params[b"boundary"], _callbacks(collector))
    try:
        async for chunk in request.stream():
            form.bytes_received += len(chunk)
            parser.write(chunk)
        parser.finalize()
    except BaseException as exc:
        collector.close()
        form.cleanup()
        if isinstance(exc, FormParserError):
            raise Invalid(None, "The multipart body is malformed.") from exc
        raise
    return form


def _callbacks(c: _Collector) -> MultipartCallbacks:
    return {
        "on_part_begin": c.on_part_begin,
        "on_part_data": c.on_part_data,
        "on_part_end": c.on_part_end,
        "on_header_field": c.on_header_field,
        "on_header_value": c.on_header_value,
        "on_header_end": c.on_header_end,
        "on_headers_finished": c.on_headers_finished,
    }
