"""TwelveLabs video understanding for LangChain and LlamaIndex.

A correct, fast client for the TwelveLabs API (sync :class:`TwelveLabs` and async
:class:`AsyncTwelveLabs`) whose waits have deadlines and typed errors, plus the types it
returns. The framework adapters live in :mod:`tl_integrations.langchain` and
:mod:`tl_integrations.llama_index`; the local emulator in :mod:`tl_integrations.emulator`.
Everything else is private (modules named with a leading underscore).

``import tl_integrations`` stays light: names are imported on first use, and neither
LangChain, LlamaIndex, Starlette nor PyAV is ever imported here.

Example:
    >>> from tl_integrations import TwelveLabs, TaskFailedError
    >>> with TwelveLabs(api_key="tlk_example") as client:  # doctest: +SKIP
    ...     index = client.indexes.get_or_create("talks")
    ...     task = client.tasks.create_and_wait(index_id=index.id, file="talk.mp4")
    ...     print(task.video_id)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InvalidRequestError,
    InvalidVideoError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TaskFailedError,
    TaskTimeoutError,
    TwelveLabsError,
    WebhookVerificationError,
)

if TYPE_CHECKING:
    from ._client import AsyncTwelveLabs, TwelveLabs
    from ._embed.vectors import EmbeddingDecodeError, MediaEmbedding, VideoEmbedding
    from ._engine import Job
    from ._ingest import (
        AsyncVideoIngest,
        IngestError,
        IngestFailure,
        IngestOptions,
        TextPiece,
        VideoInfo,
        VideoIngest,
        VideoRecord,
    )
    from ._polling import PollPolicy
    from ._receiver import WebhookReceiver, WebhookServer
    from ._resources import AsyncWaiting, Waiting
    from ._resources.analyze import (
        AnalysisBatch,
        AnalysisTask,
        AnalyzeResult,
        AnalyzeStream,
        BatchItem,
        BatchResult,
        Segment,
        SegmentDefinition,
        SegmentField,
    )
    from ._resources.embed import EmbeddingTask
    from ._resources.entities import BulkEntities, Entity, EntityCollection
    from ._resources.indexes import DEFAULT_MODELS, Index, IndexModel
    from ._resources.search import SearchClip, SearchFilter, SearchImage
    from ._resources.tasks import Task
    from ._resources.videos import SystemMetadata, Utterance, Video
    from ._retrying import RetryPolicy
    from ._webhooks import AnalyzeTaskEvent, IndexTaskEvent, WebhookEvent, verify_webhook

__version__ = "0.1.0"

# Public name -> the module that defines it, imported on first attribute access (PEP 562),
# so that `import tl_integrations` costs only the error classes.
_LAZY = {
    "TwelveLabs": "._client",
    "AsyncTwelveLabs": "._client",
    "DEFAULT_MODELS": "._resources.indexes",
    "Index": "._resources.indexes",
    "IndexModel": "._resources.indexes",
    "Job": "._engine",
    "Task": "._resources.tasks",
    "SystemMetadata": "._resources.videos",
    "Video": "._resources.videos",
    "Utterance": "._resources.videos",
    "SearchClip": "._resources.search",
    "SearchFilter": "._resources.search",
    "SearchImage": "._resources.search",
    "AnalyzeResult": "._resources.analyze",
    "AnalyzeStream": "._resources.analyze",
    "AnalysisTask": "._resources.analyze",
    "AnalysisBatch": "._resources.analyze",
    "BatchItem": "._resources.analyze",
    "BatchResult": "._resources.analyze",
    "Segment": "._resources.analyze",
    "SegmentDefinition": "._resources.analyze",
    "SegmentField": "._resources.analyze",
    "EmbeddingTask": "._resources.embed",
    "Entity": "._resources.entities",
    "EntityCollection": "._resources.entities",
    "BulkEntities": "._resources.entities",
    "Waiting": "._resources",
    "AsyncWaiting": "._resources",
    "MediaEmbedding": "._embed.vectors",
    "VideoEmbedding": "._embed.vectors",
    "EmbeddingDecodeError": "._embed.vectors",
    "PollPolicy": "._polling",
    "RetryPolicy": "._retrying",
    "VideoIngest": "._ingest",
    "AsyncVideoIngest": "._ingest",
    "IngestError": "._ingest",
    "IngestFailure": "._ingest",
    "IngestOptions": "._ingest",
    "VideoRecord": "._ingest",
    "VideoInfo": "._ingest",
    "TextPiece": "._ingest",
    "WebhookReceiver": "._receiver",
    "WebhookServer": "._receiver",
    "WebhookEvent": "._webhooks",
    "IndexTaskEvent": "._webhooks",
    "AnalyzeTaskEvent": "._webhooks",
    "verify_webhook": "._webhooks",
}

__all__ = [
    "DEFAULT_MODELS",
    "APIConnectionError",
    "APIStatusError",
    "AnalysisBatch",
    "AnalysisTask",
    "AnalyzeResult",
    "AnalyzeStream",
    "AnalyzeTaskEvent",
    "AsyncTwelveLabs",
    "AsyncVideoIngest",
    "AsyncWaiting",
    "AuthenticationError",
    "BadRequestError",
    "BatchItem",
    "BatchResult",
    "BulkEntities",
    "ConflictError",
    "EmbeddingDecodeError",
    "EmbeddingTask",
    "Entity",
    "EntityCollection",
    "Index",
    "IndexModel",
    "IndexTaskEvent",
    "IngestError",
    "IngestFailure",
    "IngestOptions",
    "InvalidRequestError",
    "InvalidVideoError",
    "Job",
    "MalformedResponseError",
    "MediaEmbedding",
    "NotFoundError",
    "PermissionDeniedError",
    "PollPolicy",
    "RateLimitError",
    "RetryPolicy",
    "SearchClip",
    "SearchFilter",
    "SearchImage",
    "Segment",
    "SegmentDefinition",
    "SegmentField",
    "ServerError",
    "SystemMetadata",
    "Task",
    "TaskFailedError",
    "TaskTimeoutError",
    "TextPiece",
    "TwelveLabs",
    "TwelveLabsError",
    "Utterance",
    "Video",
    "VideoEmbedding",
    "VideoInfo",
    "VideoIngest",
    "VideoRecord",
    "Waiting",
    "WebhookEvent",
    "WebhookReceiver",
    "WebhookServer",
    "WebhookVerificationError",
    "__version__",
    "verify_webhook",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tl_integrations' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
