"""TwelveLabs video understanding for LangChain and LlamaIndex.

A correct, fast client for the TwelveLabs API (sync :class:`TwelveLabs` and async
:class:`AsyncTwelveLabs`) whose waits have deadlines and typed errors, plus the numpy types it
returns. The framework adapters live in :mod:`tl_integrations.langchain` and
:mod:`tl_integrations.llama_index`; the local emulator in :mod:`tl_integrations.emulator`.

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

from .errors import (
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
    from .client import DEFAULT_MODELS, AsyncTwelveLabs, TwelveLabs
    from .embed import EmbeddingTask, VideoEmbedding
    from .ingest import AsyncVideoIngest, IngestError, IngestFailure, VideoIngest
    from .models import (
        AnalyzeResult,
        Index,
        IndexModel,
        SearchClip,
        SystemMetadata,
        Task,
        Utterance,
        Video,
    )
    from .polling import PollPolicy
    from .retrying import RetryPolicy

__version__ = "0.1.0"

# Public name -> the module that defines it, imported on first attribute access (PEP 562),
# so that `import tl_integrations` costs only the error classes.
_LAZY = {
    "TwelveLabs": ".client",
    "AsyncTwelveLabs": ".client",
    "DEFAULT_MODELS": ".client",
    "Task": ".models",
    "SystemMetadata": ".models",
    "Index": ".models",
    "IndexModel": ".models",
    "Video": ".models",
    "Utterance": ".models",
    "SearchClip": ".models",
    "AnalyzeResult": ".models",
    "PollPolicy": ".polling",
    "RetryPolicy": ".retrying",
    "EmbeddingTask": ".embed",
    "VideoEmbedding": ".embed",
    "VideoIngest": ".ingest",
    "AsyncVideoIngest": ".ingest",
    "IngestError": ".ingest",
    "IngestFailure": ".ingest",
}

__all__ = [
    "DEFAULT_MODELS",
    "APIConnectionError",
    "APIStatusError",
    "AnalyzeResult",
    "AsyncTwelveLabs",
    "AsyncVideoIngest",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "EmbeddingTask",
    "Index",
    "IndexModel",
    "IngestError",
    "IngestFailure",
    "InvalidRequestError",
    "InvalidVideoError",
    "MalformedResponseError",
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
