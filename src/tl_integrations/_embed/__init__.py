"""The pure side of embeddings: models and parameter checks, wire shapes, decoding, vectors.

Nothing here does I/O (but ``stat`` on a local file): the embed resource
(:mod:`tl_integrations._resources.embed`) sends the requests. Users import
:class:`~tl_integrations.VideoEmbedding` and :class:`~tl_integrations.EmbeddingDecodeError`
from ``tl_integrations``.

Example:
    >>> from tl_integrations._embed.params import resolve_model
    >>> resolve_model("marengo3.0").protocol
    'v2'
"""
