"""LlamaIndex reader: videos in, ``Document`` objects with timings out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from llama_index.core.bridge.pydantic import Field, PrivateAttr, SecretStr, field_validator
from llama_index.core.readers.base import BasePydanticReader
from llama_index.core.schema import Document
from pydantic import BaseModel, ConfigDict, ValidationError

from .._adapters import aingest_records, api_key_from_env, ingest_records, options_error
from .._ingest import (
    DEFAULT_CHAPTERS_PROMPT,
    DEFAULT_SUMMARY_PROMPT,
    ContentKind,
    IngestFailure,
    IngestOptions,
    OnError,
    OnStatus,
    VideoInput,
    VideoRecord,
    resolve_inputs,
    upload_limit,
    with_text_field,
)
from .._resources.analyze import SegmentDefinition

if TYPE_CHECKING:
    from .._client import AsyncTwelveLabs, TwelveLabs

__all__ = ["EXCLUDED_METADATA_KEYS", "TwelveLabsVideoReader"]

# Ids, timings and the local path help a citation, not the meaning: keep them out of the
# embedded and LLM text (a temp path's words would otherwise sway the ranking). A chapter's
# title is already the first line of its text: prepended again, it would be read twice.
EXCLUDED_METADATA_KEYS = (
    "source",
    "video_id",
    "index_id",
    "task_id",
    "asset_id",
    "start_s",
    "end_s",
    "duration_s",
    "chapter_title",
)
# What SimpleDirectoryReader adds as ``extra_info`` about the file: kept, never embedded.
FILE_METADATA_KEYS = (
    "file_path",
    "file_name",
    "file_type",
    "file_size",
    "creation_date",
    "last_modified_date",
    "last_accessed_date",
)


class TwelveLabsVideoReader(BasePydanticReader):
    """Read videos into LlamaIndex Documents: transcript windows, a summary, chapters,
    segments.

    Same behaviour as the LangChain ``TwelveLabsVideoLoader``: inputs are local paths,
    ``http(s)`` URLs or ``"video:<id>"``; files are uploaded at most once (SHA-256 in the
    video's ``user_metadata``); Documents come as each video becomes ready, with flat metadata
    (``source``, ``video_id``, ``index_id``, ``asset_id`` or ``task_id``, ``filename``,
    ``duration_s``, ``content_kind``, ``start_s``/``end_s``, ``chapter_title``, and for
    segments ``segment`` plus one key per field you defined) and a stable ``id_``. Ids and
    timings are excluded from the embedding and LLM text. A segment's text is its
    ``description``; ``segment_definitions`` (``SegmentDefinition`` objects or dicts, kept as
    dicts) say what to find, ``pegasus_model`` which Pegasus answers. Analyses are cached
    with the video's asset: reading again pays for none of them twice.

    The API key is a ``SecretStr`` (default: ``TWELVELABS_API_KEY``) excluded from
    ``to_dict``/``to_json``/``model_dump`` and from pickles. Pass ``client=``/``async_client=``
    to reuse your own clients (they are not serialised either). ``on_status`` is called as
    ``on_status(source, status)`` at every stage of every input (``"hashing"``,
    ``"looking up"``, ``"uploading"``, the task's statuses, ``"reading"``, then ``"done"``
    or ``"failed"``; see ``IngestOptions``); its exceptions end the load and propagate. A
    callable cannot be serialised, so it is excluded from ``to_dict``/``to_json`` and pickles.

    Raises:
        InvalidRequestError: bad options (both or neither index option...), on construction.

    Example:
        >>> reader = TwelveLabsVideoReader(index_name="talks", content=("transcript",))
        >>> docs = reader.load_data(["talk.mp4"])  # doctest: +SKIP
        >>> from llama_index.core import VectorStoreIndex
        >>> index = VectorStoreIndex.from_documents(docs, embed_model=...)  # doctest: +SKIP
        >>> reader.to_dict()["index_name"], "api_key" in reader.to_dict()
        ('talks', False)
    """

    # Unknown options are refused (a misspelt one would otherwise be silently ignored).
    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    is_remote: bool = True
    index_id: str | None = Field(default=None, description="An existing index id.")
    index_name: str | None = Field(default=None, description="An index got or created by name.")
    content: tuple[ContentKind, ...] = ("transcript", "summary")
    chunk_s: float = Field(default=30.0, description="Transcript window length, seconds.")
    summary_prompt: str = DEFAULT_SUMMARY_PROMPT
    chapters_prompt: str = DEFAULT_CHAPTERS_PROMPT
    segment_definitions: tuple[dict[str, Any], ...] | None = Field(
        default=None, description="What 'segments' finds (default: each scene)."
    )
    pegasus_model: str = "pegasus1.5"
    api_key: SecretStr | None = Field(default=None, exclude=True, repr=False)
    base_url: str | None = None
    max_concurrency: int = 4
    timeout_s: float | None = Field(default=None, description="Indexing deadline, seconds.")
    on_error: OnError = "raise"
    show_progress: bool = False
    on_status: OnStatus | None = Field(default=None, exclude=True, repr=False)
    recursive: bool = Field(default=False, description="Directories include subdirectories.")
    upload: Literal["assets", "tasks"] = "assets"

    _client: TwelveLabs | None = PrivateAttr(default=None)
    _async_client: AsyncTwelveLabs | None = PrivateAttr(default=None)
    _failures: list[IngestFailure] = PrivateAttr(default_factory=list)

    def __init__(
        self,
        *,
        client: TwelveLabs | None = None,
        async_client: AsyncTwelveLabs | None = None,
        **data: Any,
    ) -> None:
        if data.get("class_name") == self.class_name():
            del data["class_name"]  # LlamaIndex's from_dict/from_json hand their tag back
        if data.get("api_key") is None:
            data["api_key"] = api_key_from_env()
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise options_error(type(self).__name__, exc) from None
        self._client = client
        self._async_client = async_client
        self._options()  # checks the combination now, with our own error type

    @field_validator("content", mode="before")
    @classmethod
    def _one_kind(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("segment_definitions", mode="before")
    @classmethod
    def _wire_definitions(cls, value: Any) -> Any:
        # Kept as dicts, so that the reader serialises (SegmentDefinition objects are not).
        if value is None or isinstance(value, (str, bytes)):
            return value
        items = (value,) if isinstance(value, (dict, SegmentDefinition)) else value
        return tuple(with_text_field(d) for d in items)

    @classmethod
    def class_name(cls) -> str:
        """The name LlamaIndex serialises this reader under."""
        return "TwelveLabsVideoReader"

    @property
    def failures(self) -> list[IngestFailure]:
        """Inputs of the last run that produced no Documents, with reasons."""
        return self._failures

    def lazy_load_data(
        self,
        videos: VideoInput | Iterable[VideoInput],
        extra_info: Mapping[str, Any] | None = None,
        **_: Any,
    ) -> Iterator[Document]:
        """Yield Documents video by video, as each becomes ready.

        ``videos`` may hold directories and glob patterns (see ``recursive``). As a
        ``SimpleDirectoryReader`` file extractor it gets one file and its ``extra_info``,
        which is merged into every Document's metadata (and kept out of the embedded text).

        Raises:
            InvalidVideoError / InvalidRequestError: a bad input, before anything is sent.
            IngestError: at the end with ``on_error="raise"``, if any input failed.

        Example:
            >>> reader = TwelveLabsVideoReader(index_name="talks")
            >>> for doc in reader.lazy_load_data(["talk.mp4"]):  # doctest: +SKIP
            ...     print(doc.metadata["start_s"], doc.text[:40])
        """
        self._failures = []
        limit = upload_limit(self.upload)
        sources = resolve_inputs(videos, recursive=self.recursive, max_bytes=limit)
        for record in ingest_records(
            [s.source for s in sources],
            self._options(),
            self._failures,
            client=self._client,
            api_key=self._key(),
            base_url=self.base_url,
        ):
            yield from _documents(record, extra_info)

    # The base class declares a coroutine returning an iterable; a native async generator is
    # what a caller streaming Documents from an event loop actually wants.
    async def alazy_load_data(  # type: ignore[override]
        self,
        videos: VideoInput | Iterable[VideoInput],
        extra_info: Mapping[str, Any] | None = None,
        **_: Any,
    ) -> AsyncIterator[Document]:
        """The natively async :meth:`lazy_load_data`: an async iterator, no threads.

        Example:
            >>> reader = TwelveLabsVideoReader(index_name="talks")
            >>> async for doc in reader.alazy_load_data("talks/"):  # doctest: +SKIP
            ...     print(doc.metadata["source"])
        """
        self._failures = []
        limit = upload_limit(self.upload)
        sources = resolve_inputs(videos, recursive=self.recursive, max_bytes=limit)
        async for record in aingest_records(
            [s.source for s in sources],
            self._options(),
            self._failures,
            client=self._client,
            async_client=self._async_client,
            api_key=self._key(),
            base_url=self.base_url,
        ):
            for document in _documents(record, extra_info):
                yield document

    def load_data(
        self,
        videos: VideoInput | Iterable[VideoInput],
        extra_info: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """All Documents of ``videos`` in a list (see :meth:`lazy_load_data`).

        Example:
            >>> from llama_index.core import SimpleDirectoryReader
            >>> reader = TwelveLabsVideoReader(index_name="talks")
            >>> folder = SimpleDirectoryReader(  # doctest: +SKIP
            ...     input_dir="videos", file_extractor={".mp4": reader})
            >>> docs = folder.load_data()  # doctest: +SKIP
        """
        return list(self.lazy_load_data(videos, extra_info, **kwargs))

    async def aload_data(
        self,
        videos: VideoInput | Iterable[VideoInput],
        extra_info: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """All Documents of ``videos`` in a list, natively async (works in a running loop).

        Example:
            >>> reader = TwelveLabsVideoReader(index_name="talks")
            >>> docs = await reader.aload_data(["talk.mp4"])  # doctest: +SKIP
        """
        return [d async for d in self.alazy_load_data(videos, extra_info, **kwargs)]

    def _key(self) -> str | None:
        return None if self.api_key is None else self.api_key.get_secret_value()

    def _options(self) -> IngestOptions:
        return IngestOptions(
            index_id=self.index_id,
            index_name=self.index_name,
            content=self.content,
            chunk_s=self.chunk_s,
            summary_prompt=self.summary_prompt,
            chapters_prompt=self.chapters_prompt,
            segment_definitions=self.segment_definitions,
            pegasus_model=self.pegasus_model,
            max_concurrency=self.max_concurrency,
            timeout_s=self.timeout_s,
            on_error=self.on_error,
            show_progress=self.show_progress,
            on_status=self.on_status,
            upload=self.upload,
        )

    def __getstate__(self) -> dict[str, Any]:
        # Skip BaseComponent's pickling probe (it would try to pickle live clients) and drop
        # the key and the clients; an unpickled reader reads TWELVELABS_API_KEY again.
        state: dict[str, Any] = BaseModel.__getstate__(self)
        state["__dict__"] = {**state["__dict__"], "api_key": None, "on_status": None}
        state["__pydantic_private__"] = {
            "_client": None,
            "_async_client": None,
            "_failures": [],
        }
        return state


def _documents(record: VideoRecord, extra_info: Mapping[str, Any] | None) -> Iterator[Document]:
    extra = dict(extra_info or {})
    excluded = [*EXCLUDED_METADATA_KEYS, *(k for k in extra if k in FILE_METADATA_KEYS)]
    for doc_id, text, metadata in record.items():
        yield Document(
            text=text,
            id_=doc_id,
            metadata={**extra, **metadata},
            excluded_embed_metadata_keys=excluded,
            excluded_llm_metadata_keys=excluded,
        )
