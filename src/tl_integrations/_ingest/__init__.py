"""Framework-free ingestion: videos in, text records with timings out.

The LangChain loader and the LlamaIndex reader are thin translations of this package.
:class:`VideoIngest` (sync) and :class:`AsyncVideoIngest` (asyncio) take local paths,
``http(s)`` URLs or ``"video:<id>"`` strings, check them all before sending anything, upload
each file at most once (its SHA-256 goes into the video's ``user_metadata`` and is looked up
on the next run), wait with ``client.tasks.wait_many``, and yield a :class:`VideoRecord` per
video as soon as it is ready: transcript windows, a summary and chapters, each a
:class:`TextPiece` with its times. ``IngestOptions(on_status=...)`` reports every stage of
every input as it happens (see :class:`IngestOptions` for the statuses).

Example:
    >>> from tl_integrations import TwelveLabs
    >>> options = IngestOptions(index_name="talks", content=("transcript", "chapters"))
    >>> with TwelveLabs() as client:  # doctest: +SKIP
    ...     for record in VideoIngest(client, options).run(["talk.mp4"]):
    ...         for doc_id, text, metadata in record.items():
    ...             print(metadata["content_kind"], metadata.get("start_s"), text[:40])
"""

from __future__ import annotations

from .content import (
    CHAPTERS_SCHEMA,
    CONTENT_KINDS,
    DEFAULT_CHAPTERS_PROMPT,
    DEFAULT_SUMMARY_PROMPT,
    ContentKind,
    MetadataValue,
    TextPiece,
    VideoInfo,
    VideoRecord,
    chunk_transcript,
    parse_chapters,
    piece_id,
    piece_metadata,
)
from .engine import AsyncVideoIngest, VideoIngest
from .inputs import (
    HASH_KEY,
    URL_HASH_KEY,
    IngestOptions,
    OnError,
    OnStatus,
    VideoInput,
    VideoSource,
    display_source,
    resolve_inputs,
    sha256_file,
    upload_limit,
    url_key,
    with_text_field,
)
from .outcome import IngestError, IngestFailure

__all__ = [
    "CHAPTERS_SCHEMA",
    "CONTENT_KINDS",
    "DEFAULT_CHAPTERS_PROMPT",
    "DEFAULT_SUMMARY_PROMPT",
    "HASH_KEY",
    "URL_HASH_KEY",
    "AsyncVideoIngest",
    "ContentKind",
    "IngestError",
    "IngestFailure",
    "IngestOptions",
    "MetadataValue",
    "OnError",
    "OnStatus",
    "TextPiece",
    "VideoInfo",
    "VideoIngest",
    "VideoInput",
    "VideoRecord",
    "VideoSource",
    "chunk_transcript",
    "display_source",
    "parse_chapters",
    "piece_id",
    "piece_metadata",
    "resolve_inputs",
    "sha256_file",
    "upload_limit",
    "url_key",
    "with_text_field",
]
