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
)

if TYPE_CHECKING:
    from ._client import AsyncTwelveLabs, TwelveLabs
    from ._embed.vectors import EmbeddingDecodeError, MediaEmbedding, VideoEmbedding
    from ._engine import Job
    from ._ingest import AsyncVideoIngest, IngestError, IngestFailure, VideoIngest
    from ._polling import PollPolicy
    from ._resources import AsyncWaiting, Waiting
    from ._resources.analyze import AnalyzeResult
    from ._resources.embed import EmbeddingTask
    from ._resources.indexes import DEFAULT_MODELS, Index, IndexModel
    from ._resources.search import SearchClip
    from ._resources.tasks import Task
    from ._resources.videos import SystemMetadata, Utterance, Video
    from ._retrying import RetryPolicy

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
    "AnalyzeResult": "._resources.analyze",
    "EmbeddingTask": "._resources.embed",
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
}

__all__ = [
    "DEFAULT_MODELS",
    "APIConnectionError",
    "APIStatusError",
    "AnalyzeResult",
    "AsyncTwelveLabs",
    "AsyncVideoIngest",
    "AsyncWaiting",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "EmbeddingDecodeError",
    "EmbeddingTask",
    "Index",
    "IndexModel",
    "IngestError",
    "IngestFailure",
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
    "ServerError",
    "SystemMetadata",
    "Task",
    "TaskFailedError",
    "TaskTimeoutError",
    "TwelveLabs",
    "TwelveLabsError",
    "Utterance",
    "Video",
    "VideoEmbedding",
    "VideoIngest",
    "Waiting",
    "__version__",
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
