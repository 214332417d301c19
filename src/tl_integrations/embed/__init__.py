"""Video and text embeddings: ``client.embed`` and the numpy types it returns.

Example:
    >>> from tl_integrations.embed import VideoEmbedding, EmbeddingTask
    >>> VideoEmbedding.from_arrays([[1.0, 0.0]], start_s=[0], end_s=[6], options=["visual"],
    ...                            scopes=["clip"], model_name="marengo3.0").dim
    2
"""

from __future__ import annotations

from ._tasks_async import AsyncEmbedTasks
from ._tasks_sync import EmbedTasks
from .params import MODELS, ModelSpec
from .resource import AsyncEmbed, Embed
from .task import EmbeddingTask
from .vectors import EmbeddingDecodeError, VideoEmbedding

__all__ = [
    "MODELS",
    "AsyncEmbed",
    "AsyncEmbedTasks",
    "Embed",
    "EmbedTasks",
    "EmbeddingDecodeError",
    "EmbeddingTask",
    "ModelSpec",
    "VideoEmbedding",
]
