"""LangChain document loader: videos in, ``Document`` objects with timings out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document
from pydantic import SecretStr

from .._adapters import aingest_records, api_key_from_env, checked_options, ingest_records
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
)

if TYPE_CHECKING:
    from .._client import AsyncTwelveLabs, TwelveLabs
    from .._resources.analyze import SegmentDefinition

__all__ = ["TwelveLabsVideoLoader"]


class TwelveLabsVideoLoader(BaseLoader):
    """Load videos as LangChain Documents: transcript windows, a summary, chapters, segments.

    Each input is a local path, an ``http(s)`` URL of the raw media, or ``"video:<id>"`` for
    a video already in the index. Files are uploaded at most once (their SHA-256 is kept in
    the video's ``user_metadata`` and found again on the next run), indexing is awaited with
    ``wait_many``, and Documents are yielded as each video becomes ready.

    Every Document has flat metadata: ``source``, ``video_id``, ``index_id``, ``asset_id``
    (``task_id`` on the older ``/tasks`` path), ``filename``, ``duration_s``,
    ``content_kind``, ``start_s`` and ``end_s`` (not for a summary), ``chapter_title``
    (chapters), and for segments ``segment`` (the definition's id) with the value of each
    field you defined (lists joined with ", "); a segment's text is its ``description``.
    ``Document.id`` is stable (derived from video id, kind and start), so loading again
    replaces entries in a vector store.

    Summaries, chapters and segments are Pegasus analyses of the video's asset, run as
    analysis tasks and cached with it: a second load pays for none of them again.

    Args:
        videos: one input or many (paths, directories, glob patterns, URLs,
            ``"video:<id>"``); checked here, before anything is sent.
        index_id: an existing index. Give this or ``index_name``, not both.
        index_name: an index to get, or create with the client's default models.
        content: any of ``"transcript"``, ``"summary"``, ``"chapters"``, ``"segments"``.
        chunk_s: transcript window length in seconds; utterances are never cut.
        summary_prompt / chapters_prompt: the prompts sent to ``analyze``.
        segment_definitions: what ``"segments"`` finds: ``SegmentDefinition`` objects or
            their dicts (default: each scene, with a description, the people and the mood).
        pegasus_model: ``"pegasus1.5"`` (default) or ``"pegasus1.6"``.
        client / async_client: clients to use (left open); by default one is made per run.
        api_key: the API key; defaults to ``TWELVELABS_API_KEY``. Kept as a ``SecretStr``,
            never printed, logged or serialised.
        base_url: the API base URL (for the emulator, for example).
        max_concurrency: how many inputs hash and upload at once (their look-ups and
            reads run for up to four times as many).
        timeout_s: deadline for indexing, in seconds from the start of a run; None waits.
        on_error: ``"raise"``: the other videos still load, then one ``IngestError`` names
            every failed input. ``"skip"``: log a warning and record it in ``failures``.
            Either way it covers what fails once sent; an input refused here, before
            anything is sent (see Raises), is refused whatever ``on_error`` says.
        show_progress: a tqdm bar of videos done, with their current statuses.
        on_status: called as ``on_status(source, status)`` at every stage of every input:
            ``"hashing"``, ``"looking up"``, ``"uploading"``, the task's statuses
            (``"validating"`` ... ``"ready"``), ``"reading"``, then ``"done"`` or
            ``"failed"`` (details in ``IngestOptions``). Its exceptions end the load and
            propagate. Not pickled.
        recursive: a directory input includes its subdirectories' videos.
        upload: ``"assets"`` (today's path: asset, then indexed asset; resumable chunks for
            large files) or ``"tasks"`` (the older one-step ``/tasks``).

    Raises:
        InvalidRequestError: bad options (both or neither index option, unknown content...).
        InvalidVideoError: a missing, empty, oversized or non-video local file (on
            construction, before anything is sent, whatever ``on_error`` says).

    Example:
        >>> loader = TwelveLabsVideoLoader(
        ...     ["talk.mp4", "https://example.com/demo.mp4"],
        ...     index_name="talks", content=("transcript", "chapters"), chunk_s=20.0,
        ... )  # doctest: +SKIP
        >>> for doc in loader.lazy_load():  # doctest: +SKIP
        ...     meta = doc.metadata
        ...     print(meta["content_kind"], meta.get("start_s"), doc.page_content[:40])
        >>> loader.failures  # with on_error="skip"  # doctest: +SKIP
        []
        >>> TwelveLabsVideoLoader(
        ...     "talk.mp4", index_name="talks", on_status=lambda src, st: print(src, st)
        ... ).load()  # doctest: +SKIP
        talk.mp4 hashing
        talk.mp4 looking up
        talk.mp4 uploading
        talk.mp4 validating
        ...
        talk.mp4 done
    """

    @checked_options
    def __init__(
        self,
        videos: VideoInput | Iterable[VideoInput],
        *,
        index_id: str | None = None,
        index_name: str | None = None,
        content: Sequence[ContentKind] | ContentKind = ("transcript", "summary"),
        chunk_s: float = 30.0,
        summary_prompt: str = DEFAULT_SUMMARY_PROMPT,
        chapters_prompt: str = DEFAULT_CHAPTERS_PROMPT,
        segment_definitions: Sequence[SegmentDefinition | Mapping[str, Any]] | None = None,
        pegasus_model: str = "pegasus1.5",
        client: TwelveLabs | None = None,
        async_client: AsyncTwelveLabs | None = None,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        max_concurrency: int = 4,
        timeout_s: float | None = None,
        on_error: OnError = "raise",
        show_progress: bool = False,
        on_status: OnStatus | None = None,
        recursive: bool = False,
        upload: Literal["assets", "tasks"] = "assets",
    ) -> None:
        self.options = IngestOptions(
            index_id=index_id,
            index_name=index_name,
            content=(content,) if isinstance(content, str) else tuple(content),
            chunk_s=chunk_s,
            summary_prompt=summary_prompt,
            chapters_prompt=chapters_prompt,
            segment_definitions=None if segment_definitions is None else tuple(segment_definitions),
            pegasus_model=pegasus_model,
            max_concurrency=max_concurrency,
            timeout_s=timeout_s,
            on_error=on_error,
            show_progress=show_progress,
            on_status=on_status,
            upload=upload,
        )
        limit = upload_limit(upload)
        sources = resolve_inputs(videos, recursive=recursive, max_bytes=limit)
        self.videos = [source.source for source in sources]
        self.client = client
        self.async_client = async_client
        self.api_key = _secret(api_key)
        self.base_url = base_url
        self.failures: list[IngestFailure] = []

    def lazy_load(self) -> Iterator[Document]:
        """Yield Documents video by video, as each becomes ready.

        ``failures`` starts as a new, empty list and receives every input that fails.

        Raises:
            IngestError: at the end with ``on_error="raise"``, if any input failed.

        Example:
            >>> loader = TwelveLabsVideoLoader(["talk.mp4"], index_name="talks")  # doctest: +SKIP
            >>> for doc in loader.lazy_load():  # doctest: +SKIP
            ...     print(doc.metadata["start_s"], doc.page_content[:40])
        """
        self.failures = []
        for record in ingest_records(
            self.videos,
            self.options,
            self.failures,
            client=self.client,
            api_key=self._key(),
            base_url=self.base_url,
        ):
            yield from _documents(record)

    async def alazy_load(self) -> AsyncIterator[Document]:
        """The natively async :meth:`lazy_load` (the async client; no threads).

        Works inside a running event loop, such as a Jupyter cell.

        Example:
            >>> loader = TwelveLabsVideoLoader(["talk.mp4"], index_name="talks")  # doctest: +SKIP
            >>> docs = [doc async for doc in loader.alazy_load()]  # doctest: +SKIP
        """
        self.failures = []
        async for record in aingest_records(
            self.videos,
            self.options,
            self.failures,
            client=self.client,
            async_client=self.async_client,
            api_key=self._key(),
            base_url=self.base_url,
        ):
            for document in _documents(record):
                yield document

    def _key(self) -> str | None:
        return None if self.api_key is None else self.api_key.get_secret_value()

    def __repr__(self) -> str:
        where = self.options.index_id or self.options.index_name
        return (
            f"{type(self).__name__}(videos={len(self.videos)}, index={where!r}, "
            f"content={self.options.content!r}, api_key={self.api_key!r})"
        )

    def __getstate__(self) -> dict[str, Any]:
        # A pickle is the configuration: no key, no live clients, no results of a past run.
        # A loaded copy reads the key from TWELVELABS_API_KEY again; a callback (often a
        # lambda or a bound method of a live object) is not configuration either.
        state = dict(self.__dict__)
        state.update(api_key=None, client=None, async_client=None, failures=[])
        state["options"] = replace(self.options, on_status=None)
        return state


def _secret(api_key: str | SecretStr | None) -> SecretStr | None:
    if isinstance(api_key, SecretStr):
        return api_key
    if api_key is None:
        return api_key_from_env()
    return SecretStr(api_key) if api_key else None


def _documents(record: VideoRecord) -> Iterator[Document]:
    for doc_id, text, metadata in record.items():
        yield Document(page_content=text, metadata=metadata, id=doc_id)
